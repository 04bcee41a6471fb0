"""The lexical analysis Citadel's BM25 reads: PostgreSQL's English configuration without the
whole-word lexemes of hyphenated words. `english` indexes "high-speed" as "high-spe", "high" and
"speed": the parts are counted twice over, and the compound rarely matches what people type.
Its parts are kept. bench/retrieval_quality.py: lexical nDCG@10 on Cranfield 0.371 -> 0.379, on
SQuAD's Rhine 0.906 -> 0.909, the demo set and SQuAD's Computational complexity within 0.004.

Existing chunks are re-analysed here; the retrieval statistics triggers keep the document
frequencies and score bounds in step within the same statement."""

from django.db import migrations

REANALYSE = """
    UPDATE documents_chunk c
       SET search_vector = v.tsv,
           lexeme_count = COALESCE(
               (SELECT sum(COALESCE(array_length(u.positions, 1), 1)) FROM unnest(v.tsv) AS u), 0)
      FROM (SELECT id, to_tsvector('{config}'::regconfig, text) AS tsv FROM documents_chunk) v
     WHERE c.id = v.id
"""

FORWARD = [
    "CREATE TEXT SEARCH CONFIGURATION citadel_english (COPY = pg_catalog.english)",
    "ALTER TEXT SEARCH CONFIGURATION citadel_english DROP MAPPING FOR asciihword, hword, numhword",
    REANALYSE.format(config="citadel_english"),
]
BACKWARD = [
    REANALYSE.format(config="english"),
    "DROP TEXT SEARCH CONFIGURATION citadel_english",
]


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0003_search_vector_gin_without_pending_list"),
        ("retrieval", "0004_lexical_score_bounds"),
    ]

    operations = [migrations.RunSQL(sql=FORWARD, reverse_sql=BACKWARD)]
