from django.db import migrations, models


def backfill(apps, schema_editor):
    """Existing answers get the review state their review items say: an open item is pending,
    else the latest decision; answers never sent to review stay "none"."""
    Answer = apps.get_model("answers", "Answer")
    ReviewItem = apps.get_model("review", "ReviewItem")
    Answer.objects.filter(status="pending_review").update(review_state="pending")
    Answer.objects.filter(status="rejected").update(review_state="rejected")
    open_items = ReviewItem.objects.filter(state__in=["pending", "escalated"]).values("answer_id")
    Answer.objects.filter(pk__in=open_items).update(review_state="pending")
    approved = ReviewItem.objects.filter(state="approved").values("answer_id")
    Answer.objects.filter(pk__in=approved, review_state="none").update(review_state="approved")


class Migration(migrations.Migration):
    dependencies = [
        ("answers", "0002_statuses_receipt_immutable"),
        ("review", "0003_reviewitem_needs_access_to"),
    ]

    operations = [
        migrations.AddField(
            model_name="answer",
            name="review_state",
            field=models.CharField(
                choices=[("none", "None"), ("pending", "Pending"), ("approved", "Approved"), ("rejected", "Rejected")],
                db_default="none",
                default="none",
                max_length=10,
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
