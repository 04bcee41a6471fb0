from django.db import migrations, models


class Migration(migrations.Migration):
    """The workers' heartbeats move here from ops with their table: state only."""

    initial = True

    dependencies = [
        ("ops", "0002_canaryrun_taskorigin"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="WorkerHeartbeat",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                        ),
                        ("worker_id", models.CharField(max_length=64, unique=True)),
                        ("hostname", models.CharField(max_length=255)),
                        ("pid", models.PositiveIntegerField()),
                        ("queues", models.CharField(max_length=200)),
                        ("started_at", models.DateTimeField()),
                        ("last_seen_at", models.DateTimeField(db_index=True)),
                        ("current_task_id", models.CharField(blank=True, max_length=64)),
                    ],
                    options={"db_table": "ops_workerheartbeat"},
                ),
            ],
            database_operations=[],
        ),
    ]
