from django.db import migrations, models
from django.db.models.functions import Cast, Concat


def locate_paged_chunks(apps, schema_editor):
    """Chunks written before locators existed: a page number is their locator ("page 3")."""
    Chunk = apps.get_model("documents", "Chunk")
    Chunk.objects.filter(page__isnull=False).update(
        locator=Concat(models.Value("page "), Cast("page", models.CharField()))
    )


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0004_citadel_english_text_search"),
    ]

    operations = [
        migrations.AddField(
            model_name="chunk",
            name="locator",
            field=models.CharField(blank=True, db_default="", default="", max_length=300),
        ),
        migrations.RunPython(locate_paged_chunks, migrations.RunPython.noop),
    ]
