"""Seed the demo: organization "acme" (member and reviewer in team Support, admin in People Ops,
a member in Sales) and "globex" (member), with passwords "<username>-pass", their documents:
demo/corpus/* for acme (uploaded by acme-admin, readable by the whole organization except the
Support team's travel budget), demo/contracts/* for acme's Procurement team, and demo/globex/* for
globex; acme's "policy review" checklist, "contract terms" extraction schema and six labels; and
acme's golden set (demo/golden.jsonl) in evaluation, with a first retrieval run of it measured over
the demo's documents; and three weeks of acme's usage for the console (questions with every
outcome, feedback, review decisions, model costs, and about twenty questions on sabbaticals, which
the handbook does not cover), its figures computed at once. Safe to run again: existing rows are
kept, a file already ingested (same SHA-256) adds nothing, the golden set is loaded and run once,
and the usage is seeded once.

The documents are queued for the worker, so the pipeline can be watched on the Documents page, and
the evaluation run is queued after them; --sync processes both here instead. --no-documents loads
the golden set but runs nothing: there would be nothing to measure."""

import json
import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from citadel.accounts.models import Organization, Team
from citadel.accounts.selectors import principal_for_username
from citadel.accounts.services import organization_create, user_create_or_join
from citadel.answers.models import Answer, Citation, Feedback, Question, RetrievedPassage
from citadel.audit.models import PromptLog
from citadel.console.services import console_refresh
from citadel.core.commands import JsonCommand
from citadel.documents.models import Document, Label
from citadel.documents.services import document_upload
from citadel.evaluation.models import EvalSet
from citadel.evaluation.services import eval_run_execute, eval_run_start, eval_set_create, golden_questions_import
from citadel.extraction.models import ExtractionSchema
from citadel.extraction.services import extraction_schema_create
from citadel.ingestion.selectors import pending_attachment_versions
from citadel.ingestion.services import version_run
from citadel.reports.models import ReportTemplate
from citadel.reports.services import report_template_create
from citadel.review.models import ReviewItem

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
User = get_user_model()
# Single files only some teams may read.
DEMO_RESTRICTED = {"support-travel-budget.md": ["Support"]}
# One policy owned by the admin and past its review date, so answers citing it say so and the
# console lists it as overdue.
DEMO_OVERDUE = {"remote-work-policy.docx": ("acme-admin", date(2026, 9, 1))}
# What each organization starts with: a checklist, and an extraction schema.
DEMO_CHECKLISTS = [("acme", DEMO_DIR / "checklists" / "policy-review.json")]
DEMO_SCHEMAS = [("acme", DEMO_DIR / "schemas" / "contract-terms.json")]
# Labels, defined before the documents so each gets its labels when it becomes ready.
DEMO_LABELS = [("acme", DEMO_DIR / "labels" / "labels.json")]
# (organization, the admin who owns and runs it, its questions, its name): the set the quality
# floors measure (tests/evaluation/test_demo_quality_floor.py), so /evaluation/ starts with it.
DEMO_GOLDEN_SETS = [("acme", "acme-admin", DEMO_DIR / "golden.jsonl", "Demo golden set")]
# acme's usage over the past weeks, for the console: who asks, what they ask (with the corpus file
# whose document answers it), and the sabbatical questions nothing in the handbook answers.
USAGE_ORG = "acme"
USAGE_DAYS = 21
USAGE_ASKERS = ["acme-member", "acme-sales", "acme-reviewer", "acme-admin"]
USAGE_QUESTIONS = [
    ("How long do customer refunds take?", "customer-refund-procedure"),
    ("What is the daily meal allowance when travelling?", "travel-expenses-policy"),
    ("Can I book business class for long flights?", "travel-expenses-policy"),
    ("How many days of paid leave do I get?", "paid-leave-holidays"),
    ("Which days are public holidays this year?", "paid-leave-holidays"),
    ("How many days a week can I work from home?", "remote-work-policy"),
    ("Does the company pay for a home office chair?", "remote-work-policy"),
    ("How long is parental leave?", "parental-leave-policy"),
    ("How often must I change my password?", "security-passwords-policy"),
    ("Who do I call when I lose my laptop?", "it-equipment-faq"),
    ("How do I report a security incident?", "incident-response-procedure"),
    ("How long do we keep customer data?", "data-retention-policy"),
    ("When are performance reviews held?", "performance-review-process"),
    ("Can I get an advance on my salary?", "salary-advance-policy"),
    ("What is the mileage rate for my own car?", "mileage-rates"),
    ("Which purchases need a purchase order?", "procurement-procedure"),
    ("What should I do in my first week?", "onboarding-checklist"),
    ("Is there a dental plan?", "benefits-faq"),
]
SABBATICAL_QUESTIONS = [
    "Can I take a sabbatical?",
    "How long can a sabbatical last?",
    "Is a sabbatical paid?",
    "Who approves a sabbatical?",
    "Am I eligible for a sabbatical after five years?",
    "Can I take unpaid sabbatical leave?",
    "What is the sabbatical policy?",
    "How do I apply for a sabbatical?",
    "Does my job stay open during a sabbatical?",
    "Can a sabbatical be split into two parts?",
    "Do I keep my benefits on sabbatical?",
    "How much notice do I need to give before a sabbatical?",
    "Is there a paid sabbatical after ten years of service?",
    "Can I travel abroad during my sabbatical?",
    "Does a sabbatical count towards my pension?",
    "sabbatical leave rules?",
    "Can I extend my sabbatical?",
    "How many sabbaticals can I take?",
    "Can I take a career break or sabbatical to study?",
    "Do part-time staff get sabbaticals?",
]
# What became of the ordinary questions, with their weights: (status, review decision).
USAGE_OUTCOMES = [
    (("answered", None), 55),
    (("answered", "approved"), 10),
    (("answered", "edited"), 4),
    (("partial", None), 12),
    (("insufficient_evidence", None), 8),
    (("rejected", "rejected"), 5),
    (("failed", None), 2),
]
NOT_HELPFUL_REASONS = ["incomplete", "outdated", "wrong", "wrong_source", ""]


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
        result["usage"] = self._usage()
        return result

    def _usage(self) -> dict:
        """acme's seeded usage (once), then its console figures computed."""
        organization = Organization.objects.get(slug=USAGE_ORG)
        seeded = Question.objects.filter(organization=organization, text=SABBATICAL_QUESTIONS[0]).exists()
        questions = 0 if seeded else _usage_seed(organization)
        return {
            "organization": USAGE_ORG,
            "questions": questions,
            "console": console_refresh(organization=organization),
        }

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
                owner_name, review_by = DEMO_OVERDUE.get(path.name, (None, None))
                owner = get_user_model().objects.get(username=owner_name) if owner_name else None
                with path.open("rb") as handle:
                    upload = document_upload(
                        principal=principal,
                        file=File(handle, name=path.name),
                        filename=path.name,
                        teams=list(teams),
                        owner=owner,
                        review_by=review_by,
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
        usage = result["usage"]
        seeded = f"{usage['questions']} questions seeded" if usage["questions"] else "already seeded"
        console = f"\nUsage of {usage['organization']}: {seeded}; see /console/."
        users = "Demo users: " + ", ".join(
            f"{u['username']} ({u['role']}@{u['organization']})" for u in result["users"]
        )
        new = [d for d in result["documents"] if d["new"]]
        golden = ", ".join(f"{g['name']} ({g['questions']} questions)" for g in result["golden_sets"])
        runs = ", ".join(f"run {r['run_id']} {r['status']}" for r in result["evaluation_runs"]) or "no run"
        return (
            f"{users}\nDocuments: {len(result['documents'])} ({len(new)} new; watch them on /documents/)."
            f"\nEvaluation: {golden}; {runs} (see /evaluation/).{console}"
        )


@transaction.atomic
def _usage_seed(organization: Organization) -> int:
    """Three weeks of questions and what became of them, written in bulk and dated back: the same
    rows asking, review, feedback and model calls write, with a fixed random seed."""
    rng = random.Random(36)
    now = timezone.now()
    users = {u.username: u for u in User.objects.filter(username__in=USAGE_ASKERS)}
    askers = [users[name] for name in USAGE_ASKERS]
    reviewer = users["acme-reviewer"]
    documents = {
        d.external_id: d
        for d in Document.objects.filter(organization=organization, parent__isnull=True, grants__scope="organization")
    }
    # (question, its answer's status, its review decision, the corpus file answering it, when)
    plan = []
    for days_ago in range(USAGE_DAYS, 0, -1):
        for _ in range(rng.randint(6, 14)):
            text, source = rng.choice(USAGE_QUESTIONS)
            outcomes, weights = zip(*USAGE_OUTCOMES, strict=True)
            status, decision = rng.choices(outcomes, weights=weights)[0]
            plan.append((text, status, decision, source, days_ago))
    for i, text in enumerate(SABBATICAL_QUESTIONS):
        plan.append((text, "insufficient_evidence", None, None, 1 + i * 13 // len(SABBATICAL_QUESTIONS)))
    # Seeded moments end an hour ago, so what people ask while trying the demo comes first.
    moments = [now - timedelta(days=d - 1, hours=1 + rng.uniform(0, 20)) for *_, d in plan]
    questions = Question.objects.bulk_create(
        Question(organization=organization, asker=askers[i % len(askers)], text=text)
        for i, (text, *_) in enumerate(plan)
    )
    answers = []
    for (text, status, decision, _source, _days), question, moment in zip(plan, questions, moments, strict=True):
        question.created_at = moment
        abstained = status == "insufficient_evidence"
        answers.append(
            Answer(
                question=question,
                organization=organization,
                status=status,
                text="" if abstained or status in ("failed", "rejected") else f"(Seeded demo answer to: {text})",
                original_text="" if abstained else f"(Seeded demo answer to: {text})",
                notice="Not enough evidence in the documents you can see to answer this." if abstained else "",
                provider="openai",
                model="gpt-4o-mini",
                flags=["abstained"] if abstained else [],
                review_state={"approved": "approved", "edited": "approved", "rejected": "rejected"}.get(
                    decision, "none"
                ),
                tokens_in=rng.randint(900, 2400),
                tokens_out=0 if abstained else rng.randint(60, 240),
                cost_usd=Decimal(rng.randint(4, 30)) / 10000,
                latency_ms=rng.randint(700, 6000),
                finalized_at=moment,
            )
        )
    answers = Answer.objects.bulk_create(answers)
    Question.objects.bulk_update(questions, ["created_at"])
    passages = []
    for (_text, status, _decision, source, _days), answer in zip(plan, answers, strict=True):
        answer.created_at = answer.finalized_at
        document = documents.get(source)
        if document is not None and status in ("answered", "partial", "rejected"):
            passages.append(
                RetrievedPassage(
                    answer=answer, n=1, document=document, version_id=document.current_version_id, score=0.8
                )
            )
    Answer.objects.bulk_update(answers, ["created_at"])
    passages = RetrievedPassage.objects.bulk_create(passages)
    Citation.objects.bulk_create(
        Citation(answer=p.answer, n=1, passage=p, quote="(seeded)", quote_start=0, quote_end=0) for p in passages
    )
    PromptLog.objects.bulk_create(
        PromptLog(
            organization=organization,
            user_id=answer.question.asker_id,
            answer=answer,
            feature="answer",
            provider=answer.provider,
            model=answer.model,
            started_at=answer.created_at - timedelta(milliseconds=answer.latency_ms),
            finished_at=answer.created_at,
            latency_ms=answer.latency_ms,
            tokens_in=answer.tokens_in,
            tokens_out=answer.tokens_out,
            cost_usd=answer.cost_usd,
            status="error" if answer.status == "failed" else "ok",
            content_mode=organization.prompt_log_mode,
        )
        for answer in answers
    )
    PromptLog.objects.bulk_create(
        PromptLog(
            organization=organization,
            user=rng.choice(askers),
            feature=feature,
            provider="openai",
            model="gpt-4o-mini",
            started_at=now - timedelta(days=days_ago - 1, hours=1 + rng.uniform(0, 20)),
            tokens_in=rng.randint(2000, 8000),
            tokens_out=rng.randint(200, 800),
            cost_usd=Decimal(rng.randint(10, 60)) / 10000,
            status="ok",
            content_mode=organization.prompt_log_mode,
        )
        for days_ago in range(USAGE_DAYS, 0, -1)
        for feature in ("summary", "extraction")
        if rng.random() < 0.6
    )
    items = [
        ReviewItem(
            organization=organization,
            answer=answer,
            state="rejected" if decision == "rejected" else "approved",
            reason="policy_all",
            edited_text=f"(Edited by a reviewer) {answer.text}" if decision == "edited" else "",
            decision_reason="The cited section does not say this." if decision == "rejected" else "",
            decided_by=reviewer,
            decided_at=min(answer.created_at + timedelta(minutes=rng.lognormvariate(4, 1)), now),
        )
        for (_text, _status, decision, _source, _days), answer in zip(plan, answers, strict=True)
        if decision is not None
    ]
    items = ReviewItem.objects.bulk_create(items)
    for item in items:
        item.created_at = item.answer.created_at
    ReviewItem.objects.bulk_update(items, ["created_at"])
    feedback = []
    for (_text, status, _decision, _source, _days), answer in zip(plan, answers, strict=True):
        if status == "failed" or rng.random() > 0.35:
            continue
        helpful = status == "answered" and rng.random() < 0.8
        feedback.append(
            Feedback(
                answer=answer,
                user_id=answer.question.asker_id,
                helpful=helpful,
                reason="" if helpful else rng.choice(NOT_HELPFUL_REASONS),
            )
        )
    feedback = Feedback.objects.bulk_create(feedback)
    for row in feedback:
        row.created_at = min(row.answer.created_at + timedelta(minutes=rng.randint(1, 90)), now)
    Feedback.objects.bulk_update(feedback, ["created_at"])
    return len(questions)
