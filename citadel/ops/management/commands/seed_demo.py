"""Seed the demo: organization "acme" (member and reviewer in team Support, admin in People Ops,
a member in Sales) and "globex" (member), with passwords "<username>-pass", their documents:
demo/corpus/* for acme (uploaded by acme-admin, readable by the whole organization except the
Support team's travel budget), demo/contracts/* for acme's Procurement team, and demo/globex/* for
globex; acme's "policy review" checklist, "contract terms" extraction schema and six labels; and
acme's golden set (demo/golden.jsonl) in evaluation, with a first retrieval run of it measured over
the demo's documents. Safe to run again: existing rows are kept, a file already ingested (same
SHA-256) adds nothing, and the golden set is loaded and run once.

The documents are queued for the worker, so the pipeline can be watched on the Documents page, and
the evaluation run is queued after them; --sync processes both here instead. --no-documents loads
the golden set but runs nothing: there would be nothing to measure."""

import json
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction

from citadel.accounts.models import Organization, Team
from citadel.accounts.selectors import principal_for_username
from citadel.accounts.services import organization_create, user_create_or_join
from citadel.core.commands import JsonCommand
from citadel.documents.models import Label
from citadel.documents.services import document_upload
from citadel.evaluation.models import EvalSet
from citadel.evaluation.services import eval_run_execute, eval_run_start, eval_set_create, golden_questions_import
from citadel.extraction.models import ExtractionSchema
from citadel.extraction.services import extraction_schema_create
from citadel.ingestion.selectors import pending_attachment_versions
from citadel.ingestion.services import version_run
from citadel.reports.models import ReportTemplate
from citadel.reports.services import report_template_create

DEMO_USERS = {
    "acme": [
        ("acme-member", "member", ["Support"]),
        ("acme-reviewer", "reviewer", ["Support"]),
        ("acme-admin", "admin", ["People Ops", "Procurement"]),
        ("acme-sales", "member", ["Sales"]),
    ],
    "globex": [("globex-member", "member", []), ("globex-admin", "admin", [])],
}
DEMO_NAMES = {"acme": "Acme Corporation", "globex": "Globex Inc."}
DEMO_DIR = Path(settings.BASE_DIR) / "demo"
# (organization, uploader, folder of files, teams that may read them: none for the whole organization)
DEMO_DOCUMENTS = [
    ("acme", "acme-admin", DEMO_DIR / "corpus", []),
    ("acme", "acme-admin", DEMO_DIR / "contracts", ["Procurement"]),
    ("acme", "acme-admin", DEMO_DIR / "contracts-handwritten", ["Procurement"]),
    ("globex", "globex-admin", DEMO_DIR / "globex", []),
]
# Single files only some teams may read.
DEMO_RESTRICTED = {"support-travel-budget.md": ["Support"]}
# What each organization starts with: a checklist, and an extraction schema.
DEMO_CHECKLISTS = [("acme", DEMO_DIR / "checklists" / "policy-review.json")]
DEMO_SCHEMAS = [("acme", DEMO_DIR / "schemas" / "contract-terms.json")]
# Labels, defined before the documents so each gets its labels when it becomes ready.
DEMO_LABELS = [("acme", DEMO_DIR / "labels" / "labels.json")]
# (organization, the admin who owns and runs it, its questions, its name): the set the quality
# floors measure (tests/evaluation/test_demo_quality_floor.py), so /evaluation/ starts with it.
DEMO_GOLDEN_SETS = [("acme", "acme-admin", DEMO_DIR / "golden.jsonl", "Demo golden set")]


class Command(JsonCommand):
    help = "Create the demo organizations and users (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--sync", action="store_true", help="Ingest the documents here instead of queueing them.")
        parser.add_argument("--no-documents", action="store_true", help="Create organizations and users only.")

    def run(self, *, sync=False, no_documents=False, **_):
        result = {
            "users": self._users(),
            "documents": [],
            "checklists": self._checklists(),
            "extraction_schemas": self._schemas(),
            "labels": self._labels(),
            "golden_sets": self._golden_sets(),
            "evaluation_runs": [],
        }
        if not no_documents:
            result["documents"] = self._documents(sync=sync)
            result["evaluation_runs"] = self._evaluation_runs(sync=sync)
        return result

    @transaction.atomic
    def _golden_sets(self) -> list[dict]:
        loaded = []
        for slug, username, path, name in DEMO_GOLDEN_SETS:
            principal = principal_for_username(username=username, org_slug=slug)
            eval_set = EvalSet.objects.filter(organization_id=principal.organization_id, name=name).first()
            if eval_set is None:
                eval_set = eval_set_create(
                    principal=principal,
                    name=name,
                    description=f"The demo's questions ({path.name}), each with the documents that answer it.",
                )
                golden_questions_import(
                    principal=principal, eval_set_id=eval_set.pk, text=path.read_text(encoding="utf-8")
                )
            loaded.append({"organization": slug, "name": name, "questions": eval_set.questions.count()})
        return loaded

    def _evaluation_runs(self, *, sync: bool) -> list[dict]:
        """A first run of each golden set that has none: queued behind the documents, or run here
        with --sync once they are ready."""
        runs = []
        for slug, username, _, name in DEMO_GOLDEN_SETS:
            principal = principal_for_username(username=username, org_slug=slug)
            eval_set = EvalSet.objects.get(organization_id=principal.organization_id, name=name)
            run = eval_set.runs.order_by("created_at").first()
            if run is None:
                with transaction.atomic():
                    run = eval_run_start(principal=principal, eval_set_id=eval_set.pk, enqueue=not sync)
                if sync:
                    run = eval_run_execute(run_id=run.pk)
            runs.append({"organization": slug, "golden_set": name, "run_id": run.pk, "status": run.status})
        return runs

    @transaction.atomic
    def _checklists(self) -> list[str]:
        slugs = []
        for slug, path in DEMO_CHECKLISTS:
            organization = Organization.objects.get(slug=slug)
            data = json.loads(path.read_text(encoding="utf-8"))
            if not ReportTemplate.objects.filter(organization=organization, slug=data["slug"]).exists():
                report_template_create(organization_id=organization.pk, data=data)
            slugs.append(data["slug"])
        return slugs

    @transaction.atomic
    def _labels(self) -> list[str]:
        names = []
        for slug, path in DEMO_LABELS:
            organization = Organization.objects.get(slug=slug)
            for label in json.loads(path.read_text(encoding="utf-8")):
                Label.objects.get_or_create(
                    organization=organization, name=label["name"], defaults={"description": label["description"]}
                )
                names.append(label["name"])
        return names

    @transaction.atomic
    def _schemas(self) -> list[str]:
        slugs = []
        for slug, path in DEMO_SCHEMAS:
            organization = Organization.objects.get(slug=slug)
            data = json.loads(path.read_text(encoding="utf-8"))
            if not ExtractionSchema.objects.filter(organization=organization, slug=data["slug"]).exists():
                extraction_schema_create(organization_id=organization.pk, data=data)
            slugs.append(data["slug"])
        return slugs

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
        for slug, username, folder, folder_teams in DEMO_DOCUMENTS:
            if not folder.is_dir():
                continue
            principal = principal_for_username(username=username, org_slug=slug)
            files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix != ".jsonl" and p.name[0] != ".")
            for path in files:
                teams = Team.objects.filter(
                    organization_id=principal.organization_id,
                    name__in=DEMO_RESTRICTED.get(path.name, folder_teams),
                )
                with path.open("rb") as handle:
                    upload = document_upload(
                        principal=principal,
                        file=File(handle, name=path.name),
                        filename=path.name,
                        teams=list(teams),
                        enqueue=not sync,
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
        golden = ", ".join(f"{g['name']} ({g['questions']} questions)" for g in result["golden_sets"])
        runs = ", ".join(f"run {r['run_id']} {r['status']}" for r in result["evaluation_runs"]) or "no run"
        return (
            f"{users}\nDocuments: {len(result['documents'])} ({len(new)} new; watch them on /documents/)."
            f"\nEvaluation: {golden}; {runs} (see /evaluation/)."
        )
