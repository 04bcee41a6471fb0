"""Per-lexeme bounds on BM25 contributions: the highest count of the lexeme in one chunk and the
shortest chunk holding it.

The statistics triggers of 0002 are redefined so that whatever becomes retrievable also widens
these bounds (never narrows them: a chunk that leaves keeps them as they are, still true bounds).
A chunk update that changes no document frequency still widens them. Existing live chunks are
backfilled here.
"""

import importlib

from django.db import migrations, models

# 0002's SQL builders (the delta of live chunks per statement) are reused as they were frozen.
initial = importlib.import_module("citadel.retrieval.migrations.0002_lexical_triggers_and_vector_indexes")


def apply_delta(delta_sql: str) -> str:
    return f"""
    WITH delta AS ({delta_sql})
    INSERT INTO retrieval_lexicalcorpus AS c (organization_id, chunk_count, total_length)
    SELECT org, sum(sign), sum(sign * len) FROM delta GROUP BY org
    HAVING sum(sign) <> 0 OR sum(sign * len) <> 0 ORDER BY org
    ON CONFLICT (organization_id) DO UPDATE
       SET chunk_count = c.chunk_count + EXCLUDED.chunk_count,
           total_length = c.total_length + EXCLUDED.total_length;
    WITH delta AS ({delta_sql})
    INSERT INTO retrieval_lexicalterm AS t (organization_id, lexeme, df, max_tf, min_length)
    SELECT d.org, l.lexeme, sum(d.sign),
           max(COALESCE(array_length(l.positions, 1), 1)) FILTER (WHERE d.sign > 0),
           min(d.len) FILTER (WHERE d.sign > 0)
      FROM delta d CROSS JOIN LATERAL unnest(d.tsv) AS l
     GROUP BY d.org, l.lexeme HAVING sum(d.sign) <> 0 OR bool_or(d.sign > 0) ORDER BY 1, 2
    ON CONFLICT (organization_id, lexeme) DO UPDATE
       SET df = t.df + EXCLUDED.df,
           max_tf = GREATEST(t.max_tf, EXCLUDED.max_tf),
           min_length = LEAST(t.min_length, EXCLUDED.min_length);
    """


def functions(delta) -> list[str]:
    live_chunks, live_versions, version_chunks = initial.live_chunks, initial.live_versions, initial.version_chunks
    return [
        initial.function("retrieval_chunk_inserted", delta(live_chunks("new_rows", 1))),
        initial.function("retrieval_chunk_deleted", delta(live_chunks("old_rows", -1))),
        initial.function(
            "retrieval_chunk_updated",
            delta(f"{live_chunks('old_rows', -1)} UNION ALL {live_chunks('new_rows', 1)}"),
        ),
        initial.function("retrieval_document_inserted", delta(version_chunks(live_versions("new_rows"), 1))),
        initial.function("retrieval_document_deleted", delta(version_chunks(live_versions("old_rows"), -1))),
        initial.function(
            "retrieval_document_updated",
            delta(
                version_chunks(f"{live_versions('old_rows')} EXCEPT {live_versions('new_rows')}", -1)
                + " UNION ALL "
                + version_chunks(f"{live_versions('new_rows')} EXCEPT {live_versions('old_rows')}", 1)
            ),
        ),
    ]


BACKFILL = """
UPDATE retrieval_lexicalterm t
   SET max_tf = b.max_tf, min_length = b.min_length
  FROM (SELECT c.organization_id, l.lexeme,
               max(COALESCE(array_length(l.positions, 1), 1)) AS max_tf, min(c.lexeme_count) AS min_length
          FROM documents_chunk c
          JOIN documents_document d ON d.current_version_id = c.version_id AND d.archived_at IS NULL
         CROSS JOIN LATERAL unnest(c.search_vector) AS l
         GROUP BY 1, 2) b
 WHERE t.organization_id = b.organization_id AND t.lexeme = b.lexeme;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("retrieval", "0003_version_centroids"),
    ]

    operations = [
        migrations.AddField(model_name="lexicalterm", name="max_tf", field=models.IntegerField(null=True)),
        migrations.AddField(model_name="lexicalterm", name="min_length", field=models.IntegerField(null=True)),
        migrations.RunSQL(sql=[*functions(apply_delta), BACKFILL], reverse_sql=functions(initial.apply_delta)),
    ]
