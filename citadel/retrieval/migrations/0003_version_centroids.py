"""Per-version centroids (mean chunk vector per embedding model), kept by statement triggers.

Each trigger hands the (version, model) pairs its statement touched to
retrieval_centroids_recompute, which recomputes those centroids from the vectors as they now are
(removing a centroid whose vectors are all gone). Recomputing instead of adding deltas keeps it
exact under any mix of inserts, updates and deletes, and costs one read of the touched versions'
vectors. Existing vectors are backfilled here.
"""

import django.db.models.deletion
import pgvector.django.vector
from django.db import migrations, models


RECOMPUTE = """
CREATE FUNCTION retrieval_centroids_recompute(version_ids bigint[], models text[]) RETURNS void
LANGUAGE sql AS $$
    WITH touched AS (SELECT DISTINCT version_id, model FROM unnest(version_ids, models) AS k(version_id, model)),
    fresh AS (
        SELECT e.version_id, e.model, min(e.dimensions) AS dimensions, count(*) AS chunks, avg(e.embedding) AS embedding
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


def trigger(event: str, referencing: str, touched: str) -> str:
    name = f"retrieval_centroids_after_{event.lower()}"
    return f"""
    CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM retrieval_centroids_recompute(array_agg(version_id), array_agg(model::text))
           FROM ({touched}) k;
        RETURN NULL;
    END $$;
    CREATE TRIGGER {name} AFTER {event} ON documents_chunkembedding
        REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {name}();
    """


FORWARD = (
    RECOMPUTE
    + trigger("INSERT", "NEW TABLE AS added", "SELECT DISTINCT version_id, model FROM added")
    + trigger("DELETE", "OLD TABLE AS removed", "SELECT DISTINCT version_id, model FROM removed")
    # An update may move a vector to another version or model: both sides are recomputed.
    + trigger(
        "UPDATE",
        "OLD TABLE AS before NEW TABLE AS after",
        "SELECT version_id, model FROM before UNION SELECT version_id, model FROM after",
    )
    + """
    SELECT retrieval_centroids_recompute(array_agg(version_id), array_agg(model::text))
      FROM (SELECT DISTINCT version_id, model FROM documents_chunkembedding) k;
    """
)

BACKWARD = """
DROP TRIGGER IF EXISTS retrieval_centroids_after_insert ON documents_chunkembedding;
DROP TRIGGER IF EXISTS retrieval_centroids_after_delete ON documents_chunkembedding;
DROP TRIGGER IF EXISTS retrieval_centroids_after_update ON documents_chunkembedding;
DROP FUNCTION IF EXISTS retrieval_centroids_after_insert();
DROP FUNCTION IF EXISTS retrieval_centroids_after_delete();
DROP FUNCTION IF EXISTS retrieval_centroids_after_update();
DROP FUNCTION IF EXISTS retrieval_centroids_recompute(bigint[], text[]);
"""


class Migration(migrations.Migration):

    dependencies = [
        ('documents', '0002_embedding_model_change'),
        ('retrieval', '0002_lexical_triggers_and_vector_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='VersionCentroid',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('model', models.CharField(max_length=200)),
                ('dimensions', models.PositiveSmallIntegerField()),
                ('chunks', models.PositiveIntegerField()),
                ('embedding', pgvector.django.vector.VectorField()),
                ('version', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='documents.documentversion')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('version', 'model'), name='centroid_unique_version_model')],
            },
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
