"""Specification of the citation checker (citadel.answers.checks) on small hand-made inputs.

check_answer(text=..., passages={n: passage text}, allowed={n the principal may cite}) returns a
CheckResult: the cleaned answer text, one CheckedCitation per kept (passage, span), the sentences
that are not backed by what they cite, and the citation numbers it removed. No database involved.
"""

from citadel.answers.checks import SUPPORT_MIN_OVERLAP, CheckedCitation, CheckResult, check_answer, marker_citations

REFUNDS = "Refunds are approved by the\nfinance team within ten business days. Travel costs need a receipt."
OFFICE = "The office closes at six on Fridays."
PASSAGES = {1: REFUNDS, 2: OFFICE}
ALLOWED = {1, 2}


def check(text: str, *, passages: dict[int, str] = PASSAGES, allowed: set[int] = ALLOWED) -> CheckResult:
    return check_answer(text=text, passages=passages, allowed=allowed)


def only_citation(result: CheckResult) -> CheckedCitation:
    assert len(result.citations) == 1, result.citations
    return result.citations[0]


# --- CheckResult ----------------------------------------------------------------------------


def test_a_bare_check_result_has_no_citations_no_unsupported_and_nothing_dropped():
    """Given only a text, when a CheckResult is built (services do so for abstentions),
    then its lists are empty and not shared between instances."""
    first, second = CheckResult(text=""), CheckResult(text="")

    first.dropped.append(3)

    assert (first.citations, first.unsupported) == ([], [])
    assert second.dropped == []


# --- rule 1: citation numbers must name an allowed, retrieved passage -------------------------


def test_a_sentence_citing_an_allowed_passage_keeps_its_marker_and_gets_a_citation():
    """Given a sentence that repeats passage 1 and cites [1], when checked, then the text is
    unchanged, nothing is dropped and one citation for passage 1 is returned."""
    result = check("Travel costs need a receipt [1].")

    assert result.text == "Travel costs need a receipt [1]."
    assert result.dropped == [] and result.unsupported == []
    assert only_citation(result).n == 1


def test_a_citation_number_beyond_the_retrieved_passages_is_dropped_from_text_and_reported():
    """Given [3] when only passages 1 and 2 were retrieved, when checked, then the marker is gone,
    3 is in `dropped`, no citation is made, and the sentence (now citing nothing) is unsupported."""
    result = check("Travel costs need a receipt [3].")

    assert result.text == "Travel costs need a receipt."
    assert result.dropped == [3]
    assert result.citations == []
    assert result.unsupported == ["Travel costs need a receipt."]


def test_a_retrieved_passage_the_principal_may_not_read_is_dropped():
    """Given passage 2 was retrieved but is not in `allowed` (its chunk became unreadable), when an
    answer cites [2], then [2] is dropped exactly like an unknown number."""
    result = check("The office closes at six on Fridays [2].", allowed={1})

    assert result.text == "The office closes at six on Fridays."
    assert result.dropped == [2]
    assert result.citations == []


def test_an_allowed_number_without_a_retrieved_passage_is_dropped():
    """Given 4 is in `allowed` but there is no passage 4, when [4] is cited, then it is dropped."""
    result = check("Travel costs need a receipt [4].", allowed={1, 2, 4})

    assert result.dropped == [4]
    assert result.citations == []


def test_in_a_multi_number_marker_only_the_bad_numbers_are_removed():
    """Given [1, 3], when checked, then 1 is kept as its own marker and 3 is dropped."""
    result = check("Travel costs need a receipt [1, 3].")

    assert result.text == "Travel costs need a receipt [1]."
    assert result.dropped == [3]
    assert [c.n for c in result.citations] == [1]


def test_multi_number_markers_are_rewritten_one_number_per_bracket():
    """Given [1, 2] or [1; 2], when checked, then the text reads [1][2] and both passages are cited."""
    for marker in ("[1, 2]", "[1; 2]"):
        result = check(f"Travel costs need a receipt {marker}.")

        assert result.text == "Travel costs need a receipt [1][2]."
        assert [c.n for c in result.citations] == [1, 2]


def test_a_number_repeated_in_one_marker_is_kept_once_but_every_bad_repeat_is_reported():
    """Given [1, 1] and [9, 9], when checked, then [1] appears once and 9 is reported twice."""
    kept = check("Travel costs need a receipt [1, 1].")
    dropped = check("Travel costs need a receipt [9, 9].")

    assert kept.text == "Travel costs need a receipt [1]."
    assert dropped.dropped == [9, 9]


def test_removing_a_marker_leaves_no_space_before_punctuation_and_no_double_spaces():
    """Given dropped markers before a full stop and between words, when checked, then the text
    reads "word." and single spaces, not "word ." or "word  word"."""
    before_stop = check("Travel costs need a receipt [3] .")
    mid_sentence = check("Travel costs [3]  need a receipt [1].")

    assert before_stop.text == "Travel costs need a receipt."
    assert mid_sentence.text == "Travel costs need a receipt [1]."


def test_an_answer_made_only_of_dropped_markers_becomes_empty():
    """Given an answer that is only "[3]", when checked, then the text is empty (services then treat
    the answer as an abstention) and 3 is reported."""
    result = check("[3]")

    assert result.text == ""
    assert result.dropped == [3]
    assert result.citations == [] and result.unsupported == []


def test_an_empty_answer_gives_an_empty_result():
    """Given an empty text, when checked, then nothing is cited, unsupported or dropped."""
    assert check("") == CheckResult(text="")


def test_a_marker_revealed_by_removing_a_nested_marker_is_dropped_too():
    """Given a nested "[[9]3]" (model output is untrusted) where neither 9 nor 3 may be cited, when
    checked, then both are dropped and no citation is made (the revealed "[3]" once survived the
    rewrite unchecked and failed the whole answer with a KeyError)."""
    result = check("Travel costs need a receipt [[9]3].")

    assert 3 not in {c.n for c in result.citations}
    assert "[3]" not in result.text
    assert result.dropped == [9, 3]


# --- rule 2: quoted spans must occur in a cited passage ---------------------------------------


def test_a_quote_that_is_verbatim_in_its_passage_is_kept_with_its_offsets():
    """Given a quote that appears in passage 2, when checked, then the citation's quote is that span
    and start/end are its offsets inside the passage."""
    result = check('The policy says "closes at six on Fridays" [2].')

    citation = only_citation(result)
    assert citation == CheckedCitation(n=2, quote="closes at six on Fridays", start=11, end=35)
    assert OFFICE[citation.start : citation.end] == citation.quote
    assert result.unsupported == []


def test_a_quote_matches_across_line_wrapping_and_case_and_the_citation_keeps_the_passage_text():
    """Given passage 1 wraps a line inside "the\\nfinance team", when the answer quotes it in other
    case and with several spaces, then the quote still matches; the citation holds the passage's
    own text (with its line break) at its real offsets, and the answer's spaces are folded."""
    result = check("Per policy, “APPROVED BY THE   finance team” [1].")

    citation = only_citation(result)
    assert citation.quote == "approved by the\nfinance team"
    assert REFUNDS[citation.start : citation.end] == citation.quote
    assert result.text == "Per policy, “APPROVED BY THE finance team” [1]."
    assert result.unsupported == []


def test_a_quote_not_in_the_cited_passage_makes_the_sentence_unsupported():
    """Given a quote that passage 1 does not contain, when checked, then the sentence is reported as
    unsupported. The quote is not counted in `dropped` (that list holds citation numbers only) and
    the citation is kept, pointing at passage 1's best matching sentence instead of the quote."""
    result = check('Travel costs need a "stamped" receipt [1].')

    assert len(result.unsupported) == 1
    assert "stamped" in result.unsupported[0]
    assert result.dropped == []
    citation = only_citation(result)
    assert citation.quote == "Travel costs need a receipt."
    assert "stamped" not in citation.quote


def test_a_quote_from_an_uncited_passage_does_not_count():
    """Given a quote that is in passage 2 while the sentence cites only [1], when checked, then the
    sentence is unsupported: a quote must be in one of the passages its own sentence cites."""
    result = check('Travel costs need a receipt, "the office closes at six" [1].')

    assert len(result.unsupported) == 1
    assert "office closes at six" in result.unsupported[0]


def test_a_quote_needs_to_be_in_only_one_of_the_cited_passages():
    """Given a quote found in passage 2 and citations [1][2], when checked, then the sentence is
    supported; passage 2's citation quotes the span, passage 1's its own best sentence."""
    result = check('"The office closes at six" [1, 2].')

    assert result.unsupported == []
    by_n = {c.n: c for c in result.citations}
    assert by_n[2] == CheckedCitation(n=2, quote="The office closes at six", start=0, end=24)
    assert REFUNDS[by_n[1].start : by_n[1].end] == by_n[1].quote


def test_quotes_shorter_than_six_characters_are_not_checked():
    """Given a five-character quoted word absent from the passage, when checked, then it is not
    treated as a quote (only quotes of six or more characters are verified), unlike a longer one."""
    short = check('Travel costs need a "rcpts" receipt [1].')
    long = check('Travel costs need a "rcptss" receipt [1].')

    assert short.unsupported == []
    assert len(long.unsupported) == 1


# --- rule 3: every sentence must cite passages that share its content words -------------------


def test_a_sentence_with_no_citation_is_unsupported():
    """Given two uncited sentences, when checked, then both are reported, in order."""
    result = check("Refunds are approved by finance. The moon is made of cheese.")

    assert result.unsupported == ["Refunds are approved by finance.", "The moon is made of cheese."]
    assert result.citations == []


def test_each_sentence_is_judged_on_its_own():
    """Given a cited sentence followed by an uncited one, when checked, then only the second is
    unsupported."""
    result = check("Travel costs need a receipt [1]. The moon is made of cheese.")

    assert result.unsupported == ["The moon is made of cheese."]
    assert [c.n for c in result.citations] == [1]


def test_a_sentence_of_stopwords_only_needs_no_citation():
    """Given a sentence with no content words, when checked, then it claims nothing: not unsupported."""
    assert check("It is what it is.").unsupported == []


def test_a_lead_in_ending_with_a_colon_on_its_own_line_needs_no_citation():
    """Given a lead-in line ending with ':' before a list, when checked, then only the list item is
    judged, and it is supported by its citation."""
    result = check("Here is what the policy says:\n\n- Refunds are approved by the finance team [1].")

    assert result.unsupported == []
    assert [c.n for c in result.citations] == [1]


def test_an_uncited_sentence_that_does_not_end_with_a_colon_is_not_a_lead_in():
    """Given the same lead-in without its colon, when checked, then it is unsupported."""
    result = check("Here is what the policy says\n\n- Refunds are approved by the finance team [1].")

    assert result.unsupported == ["Here is what the policy says"]


def test_a_cited_passage_that_does_not_share_the_sentences_words_does_not_support_it():
    """Given a sentence about the office citing the refunds passage, when checked, then it is
    unsupported (reported without its marker); the citation is still returned, quoting a sentence
    of passage 1, so the reviewer sees what was cited."""
    result = check("The office closes at six on Fridays [1].")

    assert len(result.unsupported) == 1
    assert result.unsupported[0].startswith("The office closes at six on Fridays")
    assert "[1]" not in result.unsupported[0]
    assert only_citation(result).n == 1


def test_support_is_measured_over_the_union_of_the_cited_passages():
    """Given a sentence whose words are split between passages 1 and 2, when it cites both, then it
    is supported; citing only one of them leaves it unsupported."""
    sentence = "Travel receipts and office closing at six on Fridays"

    assert check(f"{sentence} [1][2].").unsupported == []
    assert len(check(f"{sentence} [1].").unsupported) == 1


def test_half_of_the_content_words_backed_is_enough_and_less_is_not():
    """Given SUPPORT_MIN_OVERLAP = 0.5, when a sentence has 1 of 2 content words in its passage,
    then it is supported; with 1 of 3, it is unsupported."""
    assert SUPPORT_MIN_OVERLAP == 0.5

    assert check("Travel is expensive [1].").unsupported == []  # travel / expensive
    assert len(check("Travel is expensive lately [1].").unsupported) == 1  # travel / expensive / lately


def test_word_forms_are_compared_by_stem():
    """Given "receipts" and "costing" in the answer and "receipt" and "costs" in the passage, when
    checked, then they count as the same words and the sentence is supported."""
    assert check("Travel costing needs receipts [1].").unsupported == []


# --- the quote attached to each citation ------------------------------------------------------


def test_a_sentence_found_verbatim_in_its_passage_is_quoted_exactly_there():
    """Given a sentence that is a literal (case-insensitive) part of passage 2, when checked, then the
    citation quotes that part, not the whole passage sentence."""
    citation = only_citation(check("At six on Fridays. [2]"))

    assert citation == CheckedCitation(n=2, quote="at six on Fridays.", start=18, end=36)


def test_a_paraphrase_is_quoted_with_the_passage_sentence_sharing_most_of_its_words():
    """Given a paraphrase of passage 1's second sentence, when checked, then the citation quotes that
    sentence with its offsets."""
    citation = only_citation(check("Travel costs need receipts [1]."))

    assert citation.quote == "Travel costs need a receipt."
    assert (citation.start, citation.end) == (REFUNDS.index("Travel"), len(REFUNDS))


def test_two_sentences_backed_by_the_same_span_give_one_citation():
    """Given the same sentence twice, both citing [1], when checked, then one citation is returned."""
    result = check("Travel costs need a receipt [1]. Travel costs need a receipt [1].")

    assert len(result.citations) == 1


def test_two_sentences_backed_by_different_spans_of_one_passage_give_two_citations_in_order():
    """Given two sentences citing different sentences of passage 1, when checked, then passage 1 is
    cited twice, once per span, in the order of the answer."""
    result = check("Travel costs need receipts [1]. Refunds are approved by the finance team [1].")

    assert [(c.n, c.start) for c in result.citations] == [(1, REFUNDS.index("Travel")), (1, 0)]


def test_every_citation_quote_is_the_exact_slice_of_its_passage():
    """Given a mixed answer, when checked, then every citation's quote equals passage[start:end]."""
    result = check('Refunds take "ten business days" [1]. The office closes at six [2]. Travel needs receipts [1, 2].')

    assert result.citations
    for citation in result.citations:
        assert PASSAGES[citation.n][citation.start : citation.end] == citation.quote


# --- which citation each marker stands for ---------------------------------------------------


def markers(result: CheckResult) -> list[int]:
    """The citation index of each [n] of the checked text, in the order of the text."""
    found = marker_citations(result.text, [(c.n, c.quote) for c in result.citations])
    return [index for _, index in sorted(found.items())]


def test_two_quotes_of_one_passage_each_have_their_own_marker():
    """Given two sentences quoting different sentences of passage 1, each marked [1] (as the
    extractive answerer writes them), when their markers are resolved, then the first [1] stands
    for the first citation and the second [1] for the second."""
    result = check(
        "Refunds are approved by the finance team within ten business days. [1] Travel costs need a receipt. [1]"
    )

    assert [c.quote for c in result.citations] == [
        "Refunds are approved by the\nfinance team within ten business days.",
        "Travel costs need a receipt.",
    ]
    assert markers(result) == [0, 1]


def test_a_sentence_repeating_an_earlier_quote_points_at_that_quote():
    """Given a third sentence repeating the first one's span, when the markers are resolved, then
    its [1] stands for the first citation (check_answer made none for it)."""
    result = check(
        "Travel costs need a receipt [1]. The office closes at six on Fridays [2]. "
        "Refunds are approved by the finance team [1]. Travel costs need a receipt [1]."
    )

    assert [(c.n, c.quote) for c in result.citations] == [
        (1, "Travel costs need a receipt."),
        (2, OFFICE),
        (1, "Refunds are approved by the\nfinance team within ten business days."),
    ]
    assert markers(result) == [0, 1, 2, 0]


def test_a_paraphrase_quoted_twice_points_at_the_quote_sharing_its_words():
    """Given two paraphrases of passage 1's sentences in the reverse of the passage's order, when
    resolved, then each marker stands for the quote of the sentence it paraphrases."""
    result = check("Receipts are needed for travel costs [1]. The finance team approves refunds [1].")

    assert [c.quote for c in result.citations] == [
        "Travel costs need a receipt.",
        "Refunds are approved by the\nfinance team within ten business days.",
    ]
    assert markers(result) == [0, 1]


def test_a_marker_with_no_citation_of_its_passage_stands_for_none():
    """Given citations of passage 2 only, when a text citing [1] is resolved, then its [1] is left
    out: the page shows it as a bare [1] linking to the passage."""
    assert marker_citations("Travel costs need a receipt [1].", [(2, OFFICE)]) == {}
