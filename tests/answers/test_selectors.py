"""Reads for answers that need no database: the labels that give each quote its own marker."""

from citadel.answers.selectors import quote_labels


def test_a_passage_quoted_once_keeps_its_number_and_one_quoted_twice_gets_letters():
    """Given citations of passages 1, 2, 1 in the order of the answer, when labelled, then passage
    1's quotes are 1a and 1b in that order and passage 2's is plain 2."""
    assert quote_labels([1, 2, 1]) == ["1a", "2", "1b"]


def test_letters_go_on_past_z():
    """Given one passage quoted 28 times, when labelled, then the labels after 1z are 1aa and 1ab."""
    assert quote_labels([1] * 28)[-3:] == ["1z", "1aa", "1ab"]
