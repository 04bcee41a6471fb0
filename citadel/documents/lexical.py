"""How a chunk's lexical fields are computed. One definition, used by ingestion and by test
factories, so the BM25 leg always sees the same lexemes."""

from django.db import connection

# PostgreSQL's English stemming and stop words, without whole hyphenated words (documents
# migration 0004 says why).
TEXT_SEARCH_CONFIG = "citadel_english"


def chunks_lexical_update(*, version_id: int) -> None:
    """Fill search_vector (TEXT_SEARCH_CONFIG's lexemes) and lexeme_count (the BM25 document
    length: the number of lexeme occurrences) for every chunk of a version."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE documents_chunk c
               SET search_vector = v.tsv,
                   lexeme_count = COALESCE(
                       (SELECT sum(COALESCE(array_length(u.positions, 1), 1)) FROM unnest(v.tsv) AS u), 0)
              FROM (SELECT id, to_tsvector(%s::regconfig, text) AS tsv
                      FROM documents_chunk WHERE version_id = %s) v
             WHERE c.id = v.id
            """,
            [TEXT_SEARCH_CONFIG, version_id],
        )
