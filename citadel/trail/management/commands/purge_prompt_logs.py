"""`manage.py purge_prompt_logs [--json]`: blank raw prompt/output text past each organization's
retention now, in-process (the worker also schedules it hourly on the maintenance queue)."""

from citadel.accounts.models import Organization
from citadel.audit.services import prompt_logs_purge
from citadel.core.commands import JsonCommand


class Command(JsonCommand):
    help = "Remove raw prompt and output text older than each organization's retention (keeps metadata)."

    def run(self, **options):
        purged = prompt_logs_purge()
        slugs = dict(Organization.objects.filter(pk__in=purged).values_list("pk", "slug"))
        return {"purged": {slugs[pk]: count for pk, count in purged.items()}, "total": sum(purged.values())}

    def render_text(self, result) -> str:
        if not result["total"]:
            return "Nothing to purge."
        return "\n".join(f"{slug}: {count} prompt logs purged" for slug, count in result["purged"].items())
