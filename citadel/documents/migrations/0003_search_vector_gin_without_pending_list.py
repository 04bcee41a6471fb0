"""The lexical index without a pending list (see Chunk.Meta): altered in place, not rebuilt, and
what is pending now is merged into the index."""

import django.contrib.postgres.indexes
from django.db import migrations

INDEX = "chunk_search_vector_gin"


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0002_embedding_model_change"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=[f"ALTER INDEX {INDEX} SET (fastupdate = off)", f"SELECT gin_clean_pending_list('{INDEX}')"],
                    reverse_sql=f"ALTER INDEX {INDEX} RESET (fastupdate)",
                )
            ],
            state_operations=[
                migrations.RemoveIndex(model_name="chunk", name=INDEX),
                migrations.AddIndex(
                    model_name="chunk",
                    index=django.contrib.postgres.indexes.GinIndex(
                        fastupdate=False, fields=["search_vector"], name=INDEX
                    ),
                ),
            ],
        ),
    ]
