"""Read helpers for showing retrieval results."""

from django.db import connection
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from citadel.documents.lexical import TEXT_SEARCH_CONFIG

# Private-use code points as highlight sentinels: removed from the text before PostgreSQL marks
# matches, so after escaping they can only be the marks PostgreSQL put there.
_START, _STOP = "\ue000", "\ue001"


def highlight(texts: list[str], query: str) -> list[SafeString]:
    """Each text, HTML-escaped, with the words matching the query's English lexemes in <mark>."""
    if not texts:
        return []
    clean = [t.replace(_START, "").replace(_STOP, "") for t in texts]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH q AS (
                SELECT string_agg('''' || replace(replace(lexeme, '\\', '\\\\'), '''', '''''') || '''', ' | ')::tsquery AS query
                  FROM unnest(to_tsvector(%s::regconfig, %s)))
            SELECT t.n, CASE WHEN q.query IS NULL THEN t.text
                        ELSE ts_headline(%s::regconfig, t.text, q.query,
                                         'HighlightAll=true, StartSel={_START}, StopSel={_STOP}') END
              FROM unnest(%s::text[]) WITH ORDINALITY AS t(text, n) CROSS JOIN q
             ORDER BY t.n
            """,
            [TEXT_SEARCH_CONFIG, query, TEXT_SEARCH_CONFIG, clean],
        )
        marked = [row[1] for row in cursor.fetchall()]
    return [mark_safe(escape(m).replace(_START, "<mark>").replace(_STOP, "</mark>")) for m in marked]  # noqa: S308
