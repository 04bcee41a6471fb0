"""Chunk vectors in half precision (pgvector's halfvec), converted in place, with their HNSW
indexes rebuilt on halfvec: half the table and index for the same recall (bench/retrieval_filtered.py).
Centroids stay in single precision, averaged from the half-precision vectors."""

import pgvector.django.halfvec
from django.db import migrations

DIMENSIONS = (384, 768, 1024, 1536)


def indexes(kind: str, ops: str) -> str:
    return "".join(
        f"""
        CREATE INDEX IF NOT EXISTS retrieval_embedding_hnsw_{d} ON documents_chunkembedding
         USING hnsw ((embedding::{kind}({d})) {ops}) WITH (m = 16, ef_construction = 128)
         WHERE dimensions = {d};
        """
        for d in DIMENSIONS
    )


DROP_INDEXES = "".join(f"DROP INDEX IF EXISTS retrieval_embedding_hnsw_{d};" for d in DIMENSIONS)


def recompute(average: str) -> str:
    return f"""
    CREATE OR REPLACE FUNCTION retrieval_centroids_recompute(version_ids bigint[], models text[]) RETURNS void
    LANGUAGE sql AS $$
        WITH touched AS (SELECT DISTINCT version_id, model FROM unnest(version_ids, models) AS k(version_id, model)),
        fresh AS (
            SELECT e.version_id, e.model, min(e.dimensions) AS dimensions, count(*) AS chunks, {average} AS embedding
              FROM touched t JOIN documents_chunkembedding e ON e.version_id = t.version_id AND e.model = t.model
             GROUP BY e.version_id, e.model),
        gone AS (
            DELETE FROM retrieval_versioncentroid c USING touched t
             WHERE c.version_id = t.version_id AND c.model = t.model
               AND NOT EXISTS (SELECT 1 FROM fresh f WHERE f.version_id = t.version_id AND f.model = t.model))
        INSERT INTO retrieval_versioncentroid AS c (version_id, model, dimensions, chunks, embedding)
        SELECT version_id, model, dimensions, chunks, embedding FROM fresh ORDER BY version_id, model
        ON CONFLICT (version_id, model) DO UPDATE
           SET dimensions = EXCLUDED.dimensions, chunks = EXCLUDED.chunks, embedding = EXCLUDED.embedding;
    $$;
    """


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0007_labels"),
        ("retrieval", "0004_lexical_score_bounds"),
    ]

    operations = [
        # The vector indexes would otherwise be rebuilt once on the converted column, then dropped.
        migrations.RunSQL(DROP_INDEXES, reverse_sql=indexes("vector", "vector_cosine_ops")),
        migrations.AlterField(
            model_name="chunkembedding",
            name="embedding",
            field=pgvector.django.halfvec.HalfVectorField(),
        ),
        migrations.RunSQL(recompute("avg(e.embedding::vector)"), reverse_sql=recompute("avg(e.embedding)")),
        migrations.RunSQL(indexes("halfvec", "halfvec_cosine_ops"), reverse_sql=DROP_INDEXES),
    ]
