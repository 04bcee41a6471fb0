"""`manage.py ingest PATH... --org SLUG --as USERNAME [--external-id ID] [--team NAME ...]
[--user NAME ...] [--owner USERNAME | --owner-team NAME] [--review-by YYYY-MM-DD] [--sync] [--json]`:
one JSON object per document (one line each with --json)."""

import json
import re
from datetime import date
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files import File

from citadel.accounts.models import Team
from citadel.accounts.selectors import principal_for_username
from citadel.core.commands import JsonCommand
from citadel.core.errors import CitadelError, InvalidInput, NotFound
from citadel.documents.services import document_upload
from citadel.ingestion.selectors import pending_attachment_versions
from citadel.ingestion.services import version_run


class Command(JsonCommand):
    help = "Ingest files as documents of an organization (new documents or new versions)."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--org", dest="org", help="Organization slug (needed if the user has several).")
        parser.add_argument("--as", dest="username", required=True, help="Acting user.")
        parser.add_argument("--external-id", help="External id (one PATH only); default: the file name stem.")
        parser.add_argument("--team", action="append", default=[], help="Restrict a new document to this team.")
        parser.add_argument("--user", action="append", default=[], help="Restrict a new document to this user.")
        owner = parser.add_mutually_exclusive_group()
        owner.add_argument("--owner", metavar="USERNAME", help="The member who owns the documents.")
        owner.add_argument("--owner-team", dest="owner_team", metavar="NAME", help="The team that owns the documents.")
        parser.add_argument(
            "--review-by",
            dest="review_by",
            metavar="YYYY-MM-DD",
            help="When the documents should be reviewed; a date found in their text never replaces it.",
        )
        parser.add_argument("--sync", action="store_true", help="Run the pipeline here and wait for each result.")

    def run(
        self, *, paths, org, username, external_id, team, user, sync, owner=None, owner_team=None, review_by=None, **_
    ):
        principal = principal_for_username(username=username, org_slug=org)
        if external_id and len(paths) > 1:
            raise InvalidInput("--external-id needs exactly one PATH.")
        files = [Path(p) for p in paths]
        for path in files:
            if not path.is_file():
                raise NotFound(f"No such file: {path}")
        teams = [self._team(principal, name) for name in team]
        users = [self._user(name) for name in user]
        owned_by = self._team(principal, owner_team) if owner_team else self._owner(principal, owner) if owner else None
        freshness = {"owner": owned_by, "review_by": _date(review_by) if review_by is not None else None}
        return [
            self._ingest_one(principal, path, external_id=external_id, teams=teams, users=users, sync=sync, **freshness)
            for path in files
        ]

    @staticmethod
    def _owner(principal, name: str):
        found = (
            get_user_model()
            .objects.filter(username=name, is_active=True, memberships__organization_id=principal.organization_id)
            .first()
        )
        if found is None:
            raise NotFound(f"No member named {name!r} in this organization (--owner).")
        return found

    @staticmethod
    def _team(principal, name: str) -> Team:
        found = Team.objects.filter(organization_id=principal.organization_id, name=name).first()
        if found is None:
            raise NotFound(f"No team named {name!r} in this organization.")
        return found

    @staticmethod
    def _user(name: str):
        found = get_user_model().objects.filter(username=name, is_active=True).first()
        if found is None:
            raise NotFound(f"No active user named {name!r}.")
        return found

    def _ingest_one(self, principal, path: Path, *, external_id, teams, users, sync, owner, review_by) -> dict:
        row = {"id": None, "external_id": external_id or path.stem, "title": None, "status": None}
        try:
            with path.open("rb") as handle:
                result = document_upload(
                    principal=principal,
                    file=File(handle, name=path.name),
                    filename=path.name,
                    external_id=external_id,
                    teams=teams,
                    users=users,
                    owner=owner,
                    review_by=review_by,
                    enqueue=not sync,
                )
        except CitadelError as exc:
            return {**row, "version": None, "chunks": 0, "error": exc.message, "notice": "", "attachments": []}
        version = result.version
        if sync and version.status not in ("ready", "failed", "superseded", "archived"):
            version_run(version_id=version.pk)
            # An email's attachments were queued as documents of their own: --sync waits for them too.
            for attachment in pending_attachment_versions(document=result.document):
                version_run(version_id=attachment.pk)
        version.refresh_from_db()
        result.document.refresh_from_db()
        return {
            "id": result.document.pk,
            "external_id": result.document.external_id,
            "title": result.document.title,
            "status": version.status,
            "version": version.number,
            "chunks": version.chunks.count(),
            "error": version.error_message if version.status == "failed" else None,
            # What was left out (an email's attachments past the upload's limit), or "".
            "notice": version.notice,
            "owner": result.document.owner_name or None,
            "review_by": result.document.review_by.isoformat() if result.document.review_by else None,
            "attachments": [
                {"id": a.pk, "external_id": a.external_id, "title": a.title, "status": a.status}
                for a in _attachments(result.document)
            ],
        }

    def emit_json(self, result) -> None:
        for row in result:
            self.stdout.write(json.dumps(row, default=str))

    def render_text(self, result) -> str:
        lines = []
        for row in result:
            detail = f"error: {row['error']}" if row["error"] else f"{row['chunks']} chunks"
            lines.append(f"{row['external_id']} v{row['version']}: {row['status']} ({detail})")
        return "\n".join(lines)


def _date(text: str) -> date:
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
    except ValueError:  # 2026-02-30
        pass
    raise InvalidInput(f"--review-by takes a date as YYYY-MM-DD, not {text!r}.")


def _attachments(document):
    for attachment in document.attachments.select_related("current_version").order_by("attachment_number"):
        latest = attachment.versions.order_by("-number").only("status").first()
        attachment.status = latest.status if latest else None
        yield attachment
