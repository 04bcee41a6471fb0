"""Specification of structure-following chunking (citadel.ingestion.chunking).

chunk_document(parsed, count_tokens=..., max_tokens=..., chunk_tokens=..., overlap_tokens=...)
turns a ParsedDocument (text + blocks with page and heading path) into ChunkSpecs. Inputs are built
by hand here; the tokenizers are tiny deterministic functions, so token budgets are easy to reason
about. No database involved.
"""

import hashlib
import math
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from citadel.ingestion.chunking import (
    DEFAULT_CHUNK_TOKENS,
    DEFAULT_OVERLAP_TOKENS,
    SPECIAL_TOKENS,
    ChunkSpec,
    chunk_budget,
    chunk_document,
    content_hash,
)
from citadel.ingestion.parsers import BLOCK_SEPARATOR, MARKDOWN, PDF, Block, Limits, ParsedDocument, parse
from tests.files import pdf_bytes


def words(text: str) -> int:
    """One token per whitespace-separated word."""
    return len(text.split())


def word_pieces(text: str) -> int:
    """Like a word-piece tokenizer: a long word costs several tokens (one per 4 characters)."""
    return sum(math.ceil(len(w) / 4) for w in text.split())


def document(*blocks) -> ParsedDocument:
    """blocks: (text, page, heading_path, is_heading), joined the way the parsers join them."""
    parts, built, offset = [], [], 0
    for text, page, heading_path, is_heading in blocks:
        if parts:
            parts.append(BLOCK_SEPARATOR)
            offset += len(BLOCK_SEPARATOR)
        parts.append(text)
        built.append(Block(offset, offset + len(text), page, list(heading_path), is_heading))
        offset += len(text)
    return ParsedDocument(text="".join(parts), blocks=built)


def paragraph(text: str, page: int | None = None, heading_path: list[str] = ()) -> tuple:
    return (text, page, list(heading_path), False)


def heading(text: str, heading_path: list[str], page: int | None = None) -> tuple:
    return (text, page, list(heading_path), True)


def six_word_sentences(count: int) -> str:
    return " ".join(f"Sentence number {i} has six words." for i in range(count))


def chunk(parsed: ParsedDocument, *, count_tokens=words, max_tokens: int = 512, **kwargs) -> list[ChunkSpec]:
    return chunk_document(parsed, count_tokens=count_tokens, max_tokens=max_tokens, **kwargs)


def covered(specs: list[ChunkSpec]) -> set[int]:
    return {i for s in specs for i in range(s.char_start, s.char_end)}


# --- budgets ----------------------------------------------------------------------------------


def test_the_budget_defaults_to_the_default_chunk_size_when_the_model_allows_it():
    """Given a 512-token model and no chunk size, then the budget is DEFAULT_CHUNK_TOKENS."""
    assert chunk_budget(max_tokens=512) == DEFAULT_CHUNK_TOKENS == 200


def test_the_budget_leaves_room_for_the_models_special_tokens():
    """Given a chunk size above what the model takes, then the budget is the model's limit minus the
    [CLS]/[SEP] tokens it adds, so no chunk is truncated by the model."""
    assert chunk_budget(max_tokens=256, chunk_tokens=1000) == 256 - SPECIAL_TOKENS


def test_the_budget_never_goes_below_sixteen_tokens():
    """Given a tiny chunk size, then the budget is 16."""
    assert chunk_budget(max_tokens=512, chunk_tokens=4) == 16


def test_no_chunk_exceeds_the_budget():
    """Given twenty 6-token sentences and a 20-token budget, when chunked, then every chunk holds at
    most 20 tokens, i.e. three whole sentences."""
    specs = chunk(document(paragraph(six_word_sentences(20))), chunk_tokens=20, overlap_tokens=0)

    assert len(specs) == 7
    assert all(s.token_count <= 20 for s in specs)
    assert [s.token_count for s in specs] == [18] * 6 + [12]


def test_chunks_break_between_sentences_not_inside_them():
    """Given sentences that fit the budget, when chunked, then every chunk starts at a sentence's
    first word and ends with its full stop."""
    specs = chunk(document(paragraph(six_word_sentences(20))), chunk_tokens=20, overlap_tokens=0)

    for spec in specs:
        assert spec.text.startswith("Sentence number ")
        assert spec.text.endswith("has six words.")


def test_the_token_count_is_measured_with_the_given_tokenizer_on_the_chunk_text():
    """Given any chunking, then each token_count is count_tokens(chunk text)."""
    specs = chunk(document(paragraph(six_word_sentences(10))), count_tokens=word_pieces, chunk_tokens=30)

    assert specs
    assert all(s.token_count == word_pieces(s.text) for s in specs)


# --- overlap ----------------------------------------------------------------------------------


def test_consecutive_chunks_of_a_section_share_trailing_sentences_up_to_the_overlap():
    """Given 6-token sentences, a 40-token budget and an 8-token overlap, when chunked, then each
    chunk starts with the last sentence of the previous one (6 <= 8 tokens; two would be 12)."""
    text = six_word_sentences(20)
    specs = chunk(document(paragraph(text)), chunk_tokens=40, overlap_tokens=8)

    assert len(specs) == 4
    for previous, following in pairwise(specs):
        shared = text[following.char_start : previous.char_end]
        assert following.char_start < previous.char_end
        assert words(shared) == 6 and shared.endswith("has six words.")


def test_the_overlap_is_capped_at_a_quarter_of_the_budget():
    """Given a 40-token budget and a requested overlap of 30, when chunked, then the overlap is at most
    10 tokens: one 6-token sentence carried, never two."""
    text = six_word_sentences(20)
    specs = chunk(document(paragraph(text)), chunk_tokens=40, overlap_tokens=30)

    for previous, following in pairwise(specs):
        assert words(text[following.char_start : previous.char_end]) == 6


def test_the_overlap_defaults_to_the_default_overlap():
    """Given no overlap and a 200-token budget, when chunked, then the shared text between chunks
    is at most DEFAULT_OVERLAP_TOKENS (32) tokens, and not zero."""
    text = six_word_sentences(100)
    specs = chunk(document(paragraph(text)))

    assert len(specs) > 1
    for previous, following in pairwise(specs):
        assert 0 < words(text[following.char_start : previous.char_end]) <= DEFAULT_OVERLAP_TOKENS


def test_zero_overlap_makes_chunks_adjacent():
    """Given overlap_tokens=0, when chunked, then no two chunks share a character."""
    specs = chunk(document(paragraph(six_word_sentences(20))), chunk_tokens=20, overlap_tokens=0)

    for previous, following in pairwise(specs):
        assert following.char_start > previous.char_end


def test_a_sentence_larger_than_the_overlap_is_not_carried():
    """Given 6-token sentences and a 20-token budget (overlap capped at 5), when chunked, then no
    sentence is repeated: a whole sentence would exceed the overlap."""
    specs = chunk(document(paragraph(six_word_sentences(20))), chunk_tokens=20, overlap_tokens=8)

    for previous, following in pairwise(specs):
        assert following.char_start > previous.char_end


# --- structure: pages and headings ------------------------------------------------------------


def test_a_chunk_never_crosses_a_page_and_carries_its_page_number():
    """Given one short paragraph on each of three pages, when chunked with room for all of them, then
    there is one chunk per page, each with its page number."""
    parsed = document(*[paragraph(f"Page {n} says something useful.", page=n) for n in (1, 2, 3)])

    specs = chunk(parsed)

    assert [(s.page, s.text) for s in specs] == [(n, f"Page {n} says something useful.") for n in (1, 2, 3)]


def test_paragraphs_of_one_page_share_a_chunk_when_they_fit():
    """Given two paragraphs on page 4, when chunked, then one chunk on page 4 holds both."""
    specs = chunk(document(paragraph("First paragraph here.", page=4), paragraph("Second one here.", page=4)))

    assert [(s.page, s.text) for s in specs] == [(4, "First paragraph here.\n\nSecond one here.")]


def test_page_numbers_from_a_real_pdf_reach_the_chunks(tmp_path):
    """Given a two-page PDF parsed by the real parser, when chunked, then the badge text is in a page 1
    chunk and the parking text in a page 2 chunk."""
    path = tmp_path / "guide.pdf"
    path.write_bytes(pdf_bytes(["Alpha page talks about badges.", "Beta page covers parking."]))

    specs = chunk(parse(str(path), PDF, Limits(max_pdf_pages=10)))

    assert {s.page for s in specs if "badges" in s.text} == {1}
    assert {s.page for s in specs if "parking" in s.text} == {2}


def test_text_without_pages_gives_chunks_without_a_page():
    """Given blocks with no page (Markdown, Word, HTML, text), then chunks have page None."""
    assert [s.page for s in chunk(document(paragraph("No pages here.")))] == [None]


def test_a_chunk_never_crosses_a_heading_and_records_its_heading_path():
    """Given two sections under one chapter, when chunked, then each section is its own chunk,
    carrying the path of headings above it, and its heading's text."""
    parsed = document(
        heading("Leave", ["Leave"]),
        paragraph("Take leave early.", heading_path=["Leave"]),
        heading("Travel", ["Leave", "Travel"]),
        paragraph("Book trains.", heading_path=["Leave", "Travel"]),
    )

    specs = chunk(parsed)

    assert [(s.heading_path, s.text) for s in specs] == [
        (["Leave"], "Leave\n\nTake leave early."),
        (["Leave", "Travel"], "Travel\n\nBook trains."),
    ]


def test_a_heading_directly_above_a_subheading_joins_the_subsection_instead_of_being_a_bare_chunk():
    """Given a chapter title with no text of its own straight above its first subsection, when
    chunked, then no chunk is just the title: it joins the subsection's chunk, whose path is the
    subsection's."""
    parsed = document(
        heading("Handbook", ["Handbook"]),
        heading("Leave", ["Handbook", "Leave"]),
        paragraph("Take leave early.", heading_path=["Handbook", "Leave"]),
    )

    specs = chunk(parsed)

    assert [(s.heading_path, s.text) for s in specs] == [
        (["Handbook", "Leave"], "Handbook\n\nLeave\n\nTake leave early.")
    ]


def test_a_heading_does_not_join_text_on_the_next_page():
    """Given a heading at the bottom of page 1 and its text on page 2, when chunked, then the page
    rule wins: the heading is a chunk of its own on page 1."""
    parsed = document(heading("Title", ["Title"], page=1), paragraph("Body text.", 2, ["Title"]))

    specs = chunk(parsed)

    assert [(s.page, s.text) for s in specs] == [(1, "Title"), (2, "Body text.")]


def test_headings_from_real_markdown_reach_the_chunks(tmp_path):
    """Given a Markdown file with nested headings, parsed by the real parser, when chunked, then each
    paragraph's chunk has the heading path above it."""
    path = tmp_path / "guide.md"
    path.write_text("# Guide\n\nIntro text.\n\n## Parking\n\nParking is free.\n\n## Badges\n\nBadges open doors.\n")

    specs = chunk(parse(str(path), MARKDOWN, Limits(max_pdf_pages=10)))

    paths = {s.text.rsplit("\n\n", 1)[-1]: s.heading_path for s in specs}
    assert paths == {
        "Intro text.": ["Guide"],
        "Parking is free.": ["Guide", "Parking"],
        "Badges open doors.": ["Guide", "Badges"],
    }


# --- chunk records ----------------------------------------------------------------------------


def test_every_chunk_is_an_exact_span_of_the_document_text():
    """Given a multi-section document, then text[char_start:char_end] is each chunk's text."""
    parsed = document(
        paragraph(six_word_sentences(12), page=1),
        paragraph(six_word_sentences(5), page=2),
    )

    specs = chunk(parsed, chunk_tokens=20, overlap_tokens=6)

    assert all(parsed.text[s.char_start : s.char_end] == s.text for s in specs)


def test_ordinals_number_the_chunks_from_zero_in_document_order():
    """Given a multi-page document, then ordinals are 0, 1, 2, ... and chunks go forward in the text."""
    parsed = document(*[paragraph(six_word_sentences(8), page=n) for n in (1, 2, 3)])

    specs = chunk(parsed, chunk_tokens=20)

    assert [s.ordinal for s in specs] == list(range(len(specs)))
    assert [s.char_start for s in specs] == sorted(s.char_start for s in specs)


def test_the_content_hash_is_the_sha256_of_the_chunk_text():
    """Given any chunk, then content_hash is the SHA-256 hex digest of its text, so equal text
    gives equal hashes whatever the document."""
    specs = chunk(document(paragraph("Same words.", page=1), paragraph("Same words.", page=2)))

    assert specs[0].content_hash == content_hash("Same words.")
    assert specs[0].content_hash == specs[1].content_hash
    assert content_hash("Same words.") == hashlib.sha256(b"Same words.").hexdigest()


# --- odd inputs -------------------------------------------------------------------------------


def test_a_document_without_blocks_gives_no_chunks():
    """Given empty text and no blocks, when chunked, then there are no chunks."""
    assert chunk(ParsedDocument(text="", blocks=[])) == []


def test_whitespace_only_blocks_give_no_chunks():
    """Given a block made only of spaces, tabs and newlines, when chunked, then there are no chunks
    (an empty chunk would be embedded for nothing)."""
    parsed = ParsedDocument(text=" \n\t \n ", blocks=[Block(0, 6, 1, [])])

    assert chunk(parsed) == []


def test_a_sentence_longer_than_the_budget_is_cut_between_words():
    """Given one 100-word sentence and a 16-token budget, when chunked, then it is cut into chunks of
    at most 16 whole words, in order, together holding every word."""
    sentence = " ".join(f"w{i}" for i in range(100)) + "."
    specs = chunk(document(paragraph(sentence)), chunk_tokens=16, overlap_tokens=4)

    assert all(s.token_count <= 16 for s in specs)
    cut_words = [w for s in specs for w in s.text.split()]
    assert cut_words == sentence.split()


def test_a_single_word_longer_than_the_budget_is_cut_by_characters():
    """Given a 300-character "word" (a base64 blob) worth 75 tokens and a 16-token budget, when
    chunked, then it is cut into pieces within the budget that rebuild it exactly, and the text
    around it is kept."""
    blob = "x" * 300
    parsed = document(paragraph(f"Intro words here. {blob} tail end."))

    specs = chunk(parsed, count_tokens=word_pieces, chunk_tokens=16, overlap_tokens=4)

    assert all(s.token_count <= 16 for s in specs)
    assert specs[0].text == "Intro words here."
    assert specs[-1].text.endswith(" tail end.")
    assert len(specs) > 3
    # No overlap here (every piece fills the budget), so the chunks laid end to end rebuild the text
    # less the one space between "here." and the blob.
    assert "".join(s.text for s in specs) == f"Intro words here.{blob} tail end."


def test_chunking_is_deterministic():
    """Given the same document chunked twice, then the chunks are equal."""
    parsed = document(
        heading("Policy", ["Policy"], page=1),
        paragraph(six_word_sentences(30), 1, ["Policy"]),
        paragraph(six_word_sentences(7), 2, ["Policy"]),
    )

    first = chunk(parsed, chunk_tokens=25, overlap_tokens=6)
    second = chunk(parsed, chunk_tokens=25, overlap_tokens=6)

    assert first == second and len(first) > 2


def test_no_text_is_lost():
    """Given headings, paragraphs on several pages, a run-on sentence and a blob, when chunked, then
    every word of the input appears in some chunk and every non-space character is covered."""
    parsed = document(
        heading("Policy", ["Policy"], page=1),
        paragraph(six_word_sentences(15), 1, ["Policy"]),
        paragraph(" ".join(f"item{i}" for i in range(60)), 1, ["Policy"]),
        paragraph("Short page. " + "z" * 200 + " end.", 2, ["Policy"]),
    )

    specs = chunk(parsed, count_tokens=word_pieces, chunk_tokens=20, overlap_tokens=5)

    chunk_words = {w for s in specs for w in s.text.split()}
    # Every word is whole in some chunk, except the blob, which is cut by characters...
    assert set(parsed.text.split()) - chunk_words == {"z" * 200}
    # ...and every character of it, like every other non-space character, is in some chunk.
    seen = covered(specs)
    missing = [i for i, c in enumerate(parsed.text) if not c.isspace() and i not in seen]
    assert missing == []


# --- the same promises over generated documents -----------------------------------------------

_word = st.text(alphabet="abcdefghij", min_size=1, max_size=12) | st.sampled_from(["x" * 120, "3.5", "e.g."])
_sentence = st.builds(
    lambda ws, end: " ".join(ws) + end, st.lists(_word, min_size=1, max_size=40), st.sampled_from(".!?;: ")
)
_paragraph = st.builds(
    lambda ss, sep: sep.join(ss).strip(), st.lists(_sentence, min_size=1, max_size=6), st.sampled_from(" \n")
)
_block = st.tuples(
    _paragraph, st.sampled_from([None, 1, 2]), st.sampled_from([[], ["A"], ["A", "B"], ["C"]]), st.booleans()
)


@settings(max_examples=200, database=None, deadline=None)
@given(
    blocks=st.lists(_block, max_size=6),
    chunk_tokens=st.integers(16, 60),
    overlap_tokens=st.integers(0, 30),
    count_tokens=st.sampled_from([words, word_pieces]),
)
def test_any_document_is_covered_by_exact_in_budget_single_page_chunks(
    blocks, chunk_tokens, overlap_tokens, count_tokens
):
    """Given any document, when chunked, then: chunks are exact spans numbered in order, within the
    budget, each on one page and under one heading path (of its text blocks), every non-space
    character is covered, overlaps stay inside a section and within the capped overlap, and a
    second run gives the same chunks."""
    parsed = document(*blocks)
    budget = chunk_budget(max_tokens=512, chunk_tokens=chunk_tokens)
    overlap = min(overlap_tokens, budget // 4)

    specs = chunk(parsed, count_tokens=count_tokens, chunk_tokens=chunk_tokens, overlap_tokens=overlap_tokens)

    for ordinal, spec in enumerate(specs):
        assert spec.ordinal == ordinal
        assert parsed.text[spec.char_start : spec.char_end] == spec.text
        assert spec.token_count <= budget
        inside = [b for b in parsed.blocks if b.char_start < spec.char_end and b.char_end > spec.char_start]
        assert {b.page for b in inside} == {spec.page}
        assert all(b.heading_path == spec.heading_path for b in inside if not b.is_heading)
    for previous, following in pairwise(specs):
        assert following.char_start > previous.char_start
        if following.char_start < previous.char_end:
            assert (previous.page, previous.heading_path) == (following.page, following.heading_path)
            assert count_tokens(parsed.text[following.char_start : previous.char_end]) <= overlap
    seen = covered(specs)
    assert [i for i, c in enumerate(parsed.text) if not c.isspace() and i not in seen] == []
    assert chunk(parsed, count_tokens=count_tokens, chunk_tokens=chunk_tokens, overlap_tokens=overlap_tokens) == specs


def test_rows_are_never_split_and_chunks_name_their_rows():
    # Given 200 spreadsheet rows in one sheet, more than one chunk holds,
    rows = [f"Item: thing {n} | Price: {n} dollars" for n in range(2, 202)]
    text, blocks, at = "", [], 0
    for n, row in enumerate(rows, start=2):
        if text:
            text += "\n\n"
            at += 2
        text += row
        blocks.append(Block(at, at + len(row), None, ["Prices"], sheet="Prices", row=n, record=True))
        at += len(row)

    specs = chunk_document(
        ParsedDocument(text=text, blocks=blocks), count_tokens=lambda t: len(t.split()), max_tokens=64
    )

    # when chunked, each chunk holds whole rows and its locator names its first and last row.
    assert len(specs) > 1
    for spec in specs:
        assert spec.text.startswith("Item:") and spec.text.endswith("dollars")
        first, last = (int(n) for n in spec.locator.removeprefix("Prices rows ").split("-"))
        assert f"thing {first} " in spec.text + " " and f"thing {last} " in spec.text + " "
    assert specs[0].locator.startswith("Prices rows 2-") and specs[-1].locator.endswith("-201")
