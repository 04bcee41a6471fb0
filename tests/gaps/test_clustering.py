"""Grouping by meaning and naming the groups, on a small hand-made set (no database)."""

import numpy as np

from citadel.gaps.clustering import centroids, cluster
from citadel.gaps.labels import telling_words
from citadel.gaps.services import THRESHOLDS
from citadel.providers.embeddings import FAKE, FakeEmbedder
from tests.gaps.records import PARKING, SABBATICAL, STRAY


def _groups(texts: list[str]) -> list[list[str]]:
    labels = cluster(
        np.array(FakeEmbedder().embed(texts)), threshold=THRESHOLDS[FAKE][0], merge_threshold=THRESHOLDS[FAKE][1]
    )
    return [[t for t, g in zip(texts, labels, strict=True) if g == group] for group in range(labels.max() + 1)]


def test_questions_on_one_topic_form_one_group_and_a_stray_question_stays_alone():
    """Given five questions on sabbaticals, four on parking and one on the wifi, interleaved,
    when they are grouped without being told how many groups there are,
    then each topic is one group and the stray question is a group of its own."""
    texts = [q for pair in zip(SABBATICAL, [*PARKING, STRAY], strict=True) for q in pair]

    groups = _groups(texts)

    assert sorted(sorted(g) for g in groups) == sorted([sorted(SABBATICAL), sorted(PARKING), [STRAY]])


def test_a_group_is_named_by_the_words_that_set_it_apart():
    """Given the groups of sabbatical, parking and wifi questions,
    when they are named,
    then the sabbatical group's words are its own ("sabbatical", "leave"), never a word every
    question is made of."""
    names = telling_words([SABBATICAL, PARKING, [STRAY]])

    assert set(names[0][:2]) == {"sabbatical", "leave"}
    assert set(names[1]) == {"car", "park", "office"}
    assert not {"how", "the", "is", "can", "who"} & {w for name in names for w in name}


def test_plurals_count_with_their_singular():
    """Given a group asking about "sabbaticals" twice and "sabbatical" once,
    when it is named, then it is named "sabbatical", with all three questions behind it."""
    names = telling_words([["sabbaticals rules", "sabbaticals length", "sabbatical pay"], ["wifi password"]])

    assert names[0] == ["sabbatical"]


def test_centroids_are_unit_means_of_their_groups():
    """Given two groups of vectors, when their centroids are taken, then each is its group's mean, normalised."""
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    result = centroids(vectors, np.array([0, 0, 1]))

    np.testing.assert_allclose(result, [[2**-0.5, 2**-0.5], [-1.0, 0.0]], atol=1e-6)
