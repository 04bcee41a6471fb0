"""The 384-d HNSW index (all-MiniLM-L6-v2's) rebuilt with 12 neighbours per node instead of 16.

A half-precision 384-d node and its level-0 neighbour list of 2 x 16 item pointers take just over
an eighth of an 8 KiB page, so seven fit on a page; with 2 x 12 eight do, and the index is a tenth
smaller (1,150,000 chunks: see the README's benchmarks, which measure recall and latency against the
single-precision index with 16). A wider vector fills most of its page share by itself, so fewer
neighbours would not fit more nodes on a page: those indexes keep 16."""

from django.db import migrations


def index(m: int) -> str:
    return f"""
    DROP INDEX IF EXISTS retrieval_embedding_hnsw_384;
    CREATE INDEX retrieval_embedding_hnsw_384 ON documents_chunkembedding
     USING hnsw ((embedding::halfvec(384)) halfvec_cosine_ops) WITH (m = {m}, ef_construction = 128)
     WHERE dimensions = 384;
    """


class Migration(migrations.Migration):
    dependencies = [("documents", "0008_halfvec_embeddings")]

    operations = [migrations.RunSQL(index(12), reverse_sql=index(16))]
