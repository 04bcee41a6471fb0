"""Version centroids: the mean chunk vector per (version, embedding model), kept by triggers."""

import numpy as np
import pytest

from citadel.documents.models import ChunkEmbedding
from citadel.retrieval.models import VersionCentroid
from tests.factories import make_document, make_version


def mean_vector(version, model) -> np.ndarray:
    rows = ChunkEmbedding.objects.filter(version=version, model=model).values_list("embedding", flat=True)
    return np.mean([np.asarray(v) for v in rows], axis=0)


def test_an_ingested_version_gets_the_mean_of_its_vectors(world):
    # Given a document of three passages, ingested
    org = world.org("acme")
    doc = make_document(org, "handbook", ["Refunds take 14 days.", "Holidays: 25 days.", "Parking is free."])

    # Then its version has one centroid per embedding model: the mean of the three vectors
    centroid = VersionCentroid.objects.get(version=doc.current_version)
    assert centroid.model == org.embedding_model and centroid.chunks == 3
    assert np.allclose(np.asarray(centroid.embedding), mean_vector(doc.current_version, org.embedding_model), atol=1e-6)


def test_removed_and_moved_vectors_recompute_the_centroids_they_touch(world):
    # Given two ingested versions of a document
    org = world.org("acme")
    doc = make_document(org, "handbook", ["Refunds take 14 days.", "Holidays: 25 days.", "Parking is free."])
    v1 = doc.current_version
    v2 = make_version(doc, ["Refunds take 10 days.", "Holidays: 30 days."])
    model = org.embedding_model

    # When one vector of v1 is deleted, then v1's centroid is the mean of the two left
    ChunkEmbedding.objects.filter(version=v1).order_by("pk").first().delete()
    assert VersionCentroid.objects.get(version=v1).chunks == 2
    assert np.allclose(np.asarray(VersionCentroid.objects.get(version=v1).embedding), mean_vector(v1, model), atol=1e-6)

    # When a vector is moved from v1 to v2 (an update), then both are recomputed
    ChunkEmbedding.objects.filter(version=v1).update(version=v2)
    assert not VersionCentroid.objects.filter(version=v1).exists()
    assert VersionCentroid.objects.get(version=v2).chunks == 4
    assert np.allclose(np.asarray(VersionCentroid.objects.get(version=v2).embedding), mean_vector(v2, model), atol=1e-6)


@pytest.mark.parametrize("how", ["vectors", "document"])
def test_a_centroid_goes_with_its_vectors(world, how):
    org = world.org("acme")
    doc = make_document(org, "handbook", ["Refunds take 14 days."])
    version = doc.current_version

    if how == "vectors":
        ChunkEmbedding.objects.filter(version=version).delete()
    else:
        doc.delete()

    assert not VersionCentroid.objects.filter(version_id=version.pk).exists()
