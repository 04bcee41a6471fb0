from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_organization_summary_mode"),
    ]

    operations = [
        migrations.AddField(
            model_name="organization",
            name="version_retention_days",
            field=models.PositiveIntegerField(db_default=30, default=30),
        ),
    ]
