"""The review-by date a document states about itself (citadel.ingestion.review_dates): pure, no database."""

from datetime import date

import pytest

from citadel.ingestion.review_dates import review_date_find


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Review date: 2026-03-01", date(2026, 3, 1)),
        ("Next review: March 2026", date(2026, 3, 1)),
        ("Review by 1 March 2026", date(2026, 3, 1)),
        ("REVIEW DATE:2026-03-01", date(2026, 3, 1)),
        ("Next review date: 15 September 2027", date(2027, 9, 15)),
        ("Next review - Sept 2027", date(2027, 9, 1)),
        ("Review due: 1st March 2026", date(2026, 3, 1)),
        ("Review due date: March 3rd, 2026", date(2026, 3, 3)),
        ("Due for review on 12 Jan. 2028", date(2028, 1, 12)),
        ("Due for review: December, 2026", date(2026, 12, 1)),
        ("This policy is to be reviewed by 30 June 2026.", date(2026, 6, 30)),
        ("Review before 2026/11/05", date(2026, 11, 5)),
        ("Review deadline: 2026-04", date(2026, 4, 1)),
        ("Next review in May 2030", date(2030, 5, 1)),
        ("Owner: HR\nReview date:\n  2026-02-28\n", date(2026, 2, 28)),
        ("Review by the 2nd of February 2027", date(2027, 2, 2)),
        ("Next review: on the 9 Oct 2026", date(2026, 10, 9)),
    ],
)
def test_a_stated_review_date_is_read_in_its_many_phrasings(text, expected):
    # Given a document's text, when its review-by date is looked for, then it is the stated date
    # (a month alone: the first of that month)
    assert review_date_find(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Last review date: 2024-01-01",
        "Previous review: March 2024",
        "Reviewed by: Ann Smith",
        "Last reviewed 2024-05-01",
        "We review travel claims by 1 March each year.",  # no year: no date
        "Review date: 03/01/2026",  # day and month order unknown
        "Review date: 2026-02-30",  # no such day
        "Review date: 2026-13",  # no such month
        "Review date: 1850-01-01",  # not a date anyone reviews by
        "Preview date: 2026-03-01",  # another word
        "Published 2026-03-01. Reviews are welcome.",
        "",
    ],
)
def test_text_that_states_no_review_to_come_gives_no_date(text):
    # Given text that names a past review, a person, an ambiguous or impossible date, or none,
    # then no review-by date is found
    assert review_date_find(text) is None


def test_the_first_stated_date_wins_and_a_past_review_before_it_is_skipped():
    # Given a document naming its last review and then its next one, and later another date
    text = "Last review date: 2024-03-01\nNext review: 2026-03-01\nReview date: 2027-01-01"

    # Then the next review is the first one to come
    assert review_date_find(text) == date(2026, 3, 1)


def test_an_impossible_date_does_not_hide_a_good_one_after_it():
    assert review_date_find("Review date: 2026-02-30. Corrected review date: 2026-03-02") == date(2026, 3, 2)
