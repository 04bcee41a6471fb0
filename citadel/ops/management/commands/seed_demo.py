"""Seed the demo: organization "acme" (member, reviewer, admin) and "globex" (member), with
passwords "<username>-pass", and their documents: demo/corpus/* for acme (uploaded by acme-admin,
readable by the whole organization) and demo/globex/* for globex. Safe to run again: existing rows
are kept and a file already ingested (same SHA-256) adds nothing.

The documents are queued for the worker, so the pipeline can be watched on the Documents page;
--sync processes them here instead."""

from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction

from citadel.accounts.models import Organization
from citadel.accounts.selectors import principal_for_username
from citadel.accounts.services import organization_create, user_create_or_join
from citadel.core.commands import JsonCommand
from citadel.documents.services import document_upload
from citadel.ingestion.selectors import pending_attachment_versions
from citadel.ingestion.services import version_run

DEMO_USERS = {
    "acme": [
        ("acme-member", "member", ["Support"]),
        ("acme-reviewer", "reviewer", ["Support"]),
        ("acme-admin", "admin", ["People Ops"]),
    ],
    "globex": [("globex-member", "member", []), ("globex-admin", "admin", [])],
}
DEMO_NAMES = {"acme": "Acme Corporation", "globex": "Globex Inc."}
DEMO_DIR = Path(settings.BASE_DIR) / "demo"
# (organization, uploader, folder of files)
DEMO_DOCUMENTS = [("acme", "acme-admin", DEMO_DIR / "corpus"), ("globex", "globex-admin", DEMO_DIR / "globex")]


class Command(JsonCommand):
    help = "Create the demo organizations and users (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--sync", action="store_true", help="Ingest the documents here instead of queueing them.")
        parser.add_argument("--no-documents", action="store_true", help="Create organizations and users only.")

    def run(self, *, sync=False, no_documents=False, **_):
        result = {"users": self._users(), "documents": []}
        if not no_documents:
            result["documents"] = self._documents(sync=sync)
        return result

    @transaction.atomic
    def _users(self):
        created = []
        for slug, users in DEMO_USERS.items():
            org = Organization.objects.filter(slug=slug).first() or organization_create(
                slug=slug, name=DEMO_NAMES[slug]
            )
            for username, role, teams in users:
                user_create_or_join(
                    username=username, organization=org, role=role, password=f"{username}-pass", teams=teams
                )
                created.append({"organization": slug, "username": username, "role": role})
        return created

    def _documents(self, *, sync: bool) -> list[dict]:
        rows = []
        for slug, username, folder in DEMO_DOCUMENTS:
            if not folder.is_dir():
                continue
            principal = principal_for_username(username=username, org_slug=slug)
            for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
                with path.open("rb") as handle:
                    upload = document_upload(
                        principal=principal, file=File(handle, name=path.name), filename=path.name, enqueue=not sync
                    )
                if sync and upload.created:
                    version_run(version_id=upload.version.pk)
                    for attachment in pending_attachment_versions(document=upload.document):
                        version_run(version_id=attachment.pk)
                upload.version.refresh_from_db()
                rows.append(
                    {
                        "organization": slug,
                        "external_id": upload.document.external_id,
                        "version": upload.version.number,
                        "status": upload.version.status,
                        "new": upload.created,
                    }
                )
        return rows

    def render_text(self, result) -> str:
        users = "Demo users: " + ", ".join(
            f"{u['username']} ({u['role']}@{u['organization']})" for u in result["users"]
        )
        new = [d for d in result["documents"] if d["new"]]
        return f"{users}\nDocuments: {len(result['documents'])} ({len(new)} new; watch them on /documents/)."
