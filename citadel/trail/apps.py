from django.apps import AppConfig


class TrailConfig(AppConfig):
    """What staff read of the record: the audit trail, prompt logs and the support timeline.

    The writer (citadel.audit) sits at the bottom so every service can record; this reader sits
    near the top because it joins the record with answers, review and documents."""

    name = "citadel.trail"
    label = "trail"
