"""The vector indexes the migrations leave: half precision, and the 384-d graph sized to its pages."""

import re

import pytest
from django.db import connection

from citadel.retrieval.dense import INDEXED_DIMENSIONS

pytestmark = pytest.mark.django_db


def index_definitions() -> dict[int, str]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes"
            " WHERE tablename = 'documents_chunkembedding' AND indexname LIKE 'retrieval_embedding_hnsw_%'"
        )
        return {int(name.rsplit("_", 1)[1]): definition for name, definition in cur.fetchall()}


def test_every_indexed_dimension_has_a_half_precision_cosine_graph_of_its_own():
    # Given a migrated database, when its vector indexes are read
    definitions = index_definitions()

    # Then each dimension the dense leg indexes has a partial HNSW index on halfvec with cosine distance
    assert set(definitions) == set(INDEXED_DIMENSIONS)
    for dimensions, definition in definitions.items():
        assert "USING hnsw" in definition
        assert f"halfvec({dimensions})" in definition and "halfvec_cosine_ops" in definition
        assert f"WHERE (dimensions = {dimensions})" in definition


def test_the_384_dimension_graph_keeps_12_neighbours_and_wider_ones_16():
    # Given a migrated database
    definitions = index_definitions()

    # Then MiniLM's 384-d graph has m 12 (eight nodes to a page), the wider ones m 16
    m = {d: int(re.search(r"m='?(\d+)", definition).group(1)) for d, definition in definitions.items()}
    assert m == {384: 12, 768: 16, 1024: 16, 1536: 16}
