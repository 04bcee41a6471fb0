"""Sentence spans: where one sentence ends and the next begins, as every quote relies on."""

from citadel.providers import text as T


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in T.sentence_spans(text)]


def test_a_sentence_wrapped_before_a_capitalised_name_stays_whole():
    # Given OCR text that breaks a sentence at the line end, before "In Room 4B",
    text = "The quarterly planning retrospective takes place\nIn Room 4B on the first Friday."

    # then it is one sentence.
    assert _sentences(text) == [text]


def test_a_short_heading_and_a_title_case_heading_end_at_their_line():
    text = "Parental leave\nBirthing parents receive 20 weeks.\nExpense Reporting Deadlines For Managers\nReports are due monthly."

    assert _sentences(text) == [
        "Parental leave",
        "Birthing parents receive 20 weeks.",
        "Expense Reporting Deadlines For Managers",
        "Reports are due monthly.",
    ]
