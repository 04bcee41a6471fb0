"""BM25 statistics kept by triggers, and per-dimension HNSW indexes.

Each trigger turns "what became retrievable / stopped being retrievable" into a signed delta of
(organization, search_vector, lexeme_count) rows and applies it to the two statistics tables. A
chunk is retrievable while its version is its document's current version and the document is not
archived. Chunk triggers judge liveness against the document row as it is now; document triggers
use the chunks as they are now, so whichever of the two a deletion touches first, each chunk is
subtracted exactly once. The corpus row is locked before the term rows, so two transactions of
one organization never deadlock on terms.

HNSW: ef_construction 128 instead of pgvector's 64 buys recall at the same ef_search (measured
with bench/retrieval_filtered.py) for twice the build time.
"""

from django.db import migrations

DIMENSIONS = (384, 768, 1024, 1536)


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
    INSERT INTO retrieval_lexicalterm AS t (organization_id, lexeme, df)
    SELECT d.org, l.lexeme, sum(d.sign)
      FROM delta d CROSS JOIN LATERAL unnest(tsvector_to_array(d.tsv)) AS l(lexeme)
     GROUP BY d.org, l.lexeme HAVING sum(d.sign) <> 0 ORDER BY 1, 2
    ON CONFLICT (organization_id, lexeme) DO UPDATE SET df = t.df + EXCLUDED.df;
    """


def live_chunks(rows: str, sign: int) -> str:
    return f"""
    SELECT r.organization_id AS org, r.search_vector AS tsv, r.lexeme_count::bigint AS len, {sign} AS sign
      FROM {rows} r
      JOIN documents_document d ON d.current_version_id = r.version_id AND d.archived_at IS NULL
     WHERE r.search_vector IS NOT NULL OR r.lexeme_count <> 0
    """


def live_versions(rows: str) -> str:
    return f"""
    SELECT organization_id, current_version_id FROM {rows}
     WHERE current_version_id IS NOT NULL AND archived_at IS NULL
    """


def version_chunks(versions: str, sign: int) -> str:
    return f"""
    SELECT c.organization_id AS org, c.search_vector AS tsv, c.lexeme_count::bigint AS len, {sign} AS sign
      FROM ({versions}) v(organization_id, version_id)
      JOIN documents_chunk c ON c.version_id = v.version_id
    """


def function(name: str, body: str) -> str:
    return f"""
    CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
    {body}
    RETURN NULL;
    END
    $fn$;
    """


FORWARD = [
    function("retrieval_chunk_inserted", apply_delta(live_chunks("new_rows", 1))),
    function("retrieval_chunk_deleted", apply_delta(live_chunks("old_rows", -1))),
    function(
        "retrieval_chunk_updated",
        apply_delta(f"{live_chunks('old_rows', -1)} UNION ALL {live_chunks('new_rows', 1)}"),
    ),
    function("retrieval_document_inserted", apply_delta(version_chunks(live_versions("new_rows"), 1))),
    function("retrieval_document_deleted", apply_delta(version_chunks(live_versions("old_rows"), -1))),
    function(
        "retrieval_document_updated",
        apply_delta(
            version_chunks(f"{live_versions('old_rows')} EXCEPT {live_versions('new_rows')}", -1)
            + " UNION ALL "
            + version_chunks(f"{live_versions('new_rows')} EXCEPT {live_versions('old_rows')}", 1)
        ),
    ),
    function(
        "retrieval_organization_deleted",
        """
        DELETE FROM retrieval_lexicalterm WHERE organization_id IN (SELECT id FROM old_rows);
        DELETE FROM retrieval_lexicalcorpus WHERE organization_id IN (SELECT id FROM old_rows);
        """,
    ),
    """
    CREATE TRIGGER retrieval_chunk_inserted AFTER INSERT ON documents_chunk
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION retrieval_chunk_inserted();
    CREATE TRIGGER retrieval_chunk_deleted AFTER DELETE ON documents_chunk
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION retrieval_chunk_deleted();
    CREATE TRIGGER retrieval_chunk_updated AFTER UPDATE ON documents_chunk
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION retrieval_chunk_updated();
    CREATE TRIGGER retrieval_document_inserted AFTER INSERT ON documents_document
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION retrieval_document_inserted();
    CREATE TRIGGER retrieval_document_deleted AFTER DELETE ON documents_document
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION retrieval_document_deleted();
    CREATE TRIGGER retrieval_document_updated AFTER UPDATE ON documents_document
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION retrieval_document_updated();
    CREATE TRIGGER retrieval_organization_deleted AFTER DELETE ON accounts_organization
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION retrieval_organization_deleted();
    """,
    # Statistics for whatever is already live when this migration runs.
    """
    INSERT INTO retrieval_lexicalcorpus (organization_id, chunk_count, total_length)
    SELECT c.organization_id, count(*), sum(c.lexeme_count)
      FROM documents_chunk c
      JOIN documents_document d ON d.current_version_id = c.version_id AND d.archived_at IS NULL
     GROUP BY c.organization_id;
    INSERT INTO retrieval_lexicalterm (organization_id, lexeme, df)
    SELECT c.organization_id, l.lexeme, count(*)
      FROM documents_chunk c
      JOIN documents_document d ON d.current_version_id = c.version_id AND d.archived_at IS NULL
      CROSS JOIN LATERAL unnest(tsvector_to_array(c.search_vector)) AS l(lexeme)
     GROUP BY c.organization_id, l.lexeme;
    """,
] + [
    f"""
    CREATE INDEX IF NOT EXISTS retrieval_embedding_hnsw_{d} ON documents_chunkembedding
     USING hnsw ((embedding::vector({d})) vector_cosine_ops) WITH (m = 16, ef_construction = 128)
     WHERE dimensions = {d};
    """
    for d in DIMENSIONS
]

BACKWARD = [f"DROP INDEX IF EXISTS retrieval_embedding_hnsw_{d};" for d in DIMENSIONS] + [
    """
    DROP TRIGGER IF EXISTS retrieval_organization_deleted ON accounts_organization;
    DROP TRIGGER IF EXISTS retrieval_document_updated ON documents_document;
    DROP TRIGGER IF EXISTS retrieval_document_deleted ON documents_document;
    DROP TRIGGER IF EXISTS retrieval_document_inserted ON documents_document;
    DROP TRIGGER IF EXISTS retrieval_chunk_updated ON documents_chunk;
    DROP TRIGGER IF EXISTS retrieval_chunk_deleted ON documents_chunk;
    DROP TRIGGER IF EXISTS retrieval_chunk_inserted ON documents_chunk;
    DROP FUNCTION IF EXISTS retrieval_organization_deleted(), retrieval_document_updated(),
        retrieval_document_deleted(), retrieval_document_inserted(), retrieval_chunk_updated(),
        retrieval_chunk_deleted(), retrieval_chunk_inserted();
    DELETE FROM retrieval_lexicalterm;
    DELETE FROM retrieval_lexicalcorpus;
    """
]


class Migration(migrations.Migration):
    dependencies = [
        ("retrieval", "0001_lexical_statistics"),
        ("documents", "0001_initial"),
        ("accounts", "0001_initial"),
    ]

    operations = [migrations.RunSQL(sql=FORWARD, reverse_sql=BACKWARD)]
