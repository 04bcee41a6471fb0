from django.db import migrations


class Migration(migrations.Migration):
    """The workers' heartbeats now belong to jobs (its 0001 took the table over): state only."""

    dependencies = [
        ("ops", "0002_canaryrun_taskorigin"),
        ("jobs", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="WorkerHeartbeat")],
            database_operations=[],
        ),
    ]
