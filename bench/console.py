"""The console over a large organization: the rollups' refresh, and the console page and usage API
answering from them.

    CITADEL_DATA_DIR=/work/var-consolebench .venv/bin/python bench/console.py \
        --questions 1000000 --feedback 100000 --requests 40

1. Loads (once, topped up on later runs) organization "consolebench": --members members in five
   teams, a reviewer and an admin; --questions questions over the past year, each with its answer
   (statuses answered, partial, abstained, rejected, failed, pending review in realistic shares),
   a prompt log with a cost, one decided review item per 20 answers (a third of them edited, a
   sixth rejected; turnaround from minutes to days), and --feedback feedback rows. Rows are
   written by INSERT ... SELECT over generate_series inside PostgreSQL: the bench measures the
   console, not Python building a million objects.
2. Refreshes the rollups twice and times both: the first refresh of an organization covers its
   whole history; the next recomputes CITADEL["CONSOLE_ROLLUP_DAYS"] days, what the maintenance
   schedule does every CITADEL["CONSOLE_REFRESH_SECONDS"]. The second is also what one page view
   would cost if the console aggregated the record live over those days.
3. Measures the console page (as the admin, Django's test client with DEBUG off: the whole view,
   template and middleware, no network) and GET /api/v1/usage/ (bearer token) over ranges of 7, 30, 90 and 365
   days: --requests each after two warm-up requests; p50, p95 and max in milliseconds.
4. Prints one JSON object.

Use a data dir of its own: the script owns the "consolebench" organization in it.
"""

import argparse
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["CITADEL_EMBEDDER"] = "fake"
# Timed as served: DEBUG's query log and template checks are not what production pays.
os.environ.setdefault("DEBUG", "0")

ORG = "consolebench"
ADMIN = "consolebench-admin"
REVIEWER = "consolebench-reviewer"
PASSWORD = "consolebench-1"  # noqa: S105 - throwaway local accounts
TEAMS = ["Support", "Sales", "Finance", "Legal", "Engineering"]
RANGES = (7, 30, 90, 365)
# The answers' statuses and their shares, per 100 answers (cumulative bounds over i % 100).
STATUSES = "CASE WHEN s < 62 THEN 'answered' WHEN s < 76 THEN 'partial' WHEN s < 90 THEN 'insufficient_evidence' \
WHEN s < 94 THEN 'rejected' WHEN s < 97 THEN 'pending_review' ELSE 'failed' END"


def setup(members: int):
    import django

    django.setup()
    from django.core.management import call_command

    from citadel.accounts.models import Organization
    from citadel.accounts.services import organization_create, user_create_or_join

    call_command("migrate", verbosity=0)  # a fresh data dir has no tables yet
    org = Organization.objects.filter(slug=ORG).first() or organization_create(slug=ORG, name="Console bench")
    org.monthly_budget_usd = 500
    org.save(update_fields=["monthly_budget_usd"])
    users = [
        user_create_or_join(username=ADMIN, organization=org, role="admin", password=PASSWORD, teams=[])[0],
        user_create_or_join(username=REVIEWER, organization=org, role="reviewer", password=PASSWORD, teams=["Support"])[
            0
        ],
    ]
    for i in range(members):
        teams = [TEAMS[i % len(TEAMS)]] + ([TEAMS[(i + 1) % len(TEAMS)]] if i % 4 == 0 else [])
        users.append(
            user_create_or_join(
                username=f"consolebench-{i}", organization=org, role="member", password=PASSWORD, teams=teams
            )[0]
        )
    return org, users


def load(org, users, *, questions: int, feedback: int) -> dict:
    """Tops the organization up to `questions` questions and answers and `feedback` feedback rows."""
    from django.db import connection, transaction

    from citadel.answers.models import Feedback, Question

    have = Question.objects.filter(organization=org).count()
    timings = {}
    user_ids = [u.pk for u in users]
    reviewer_id = users[1].pk
    with transaction.atomic(), connection.cursor() as cur:
        started = time.monotonic()
        if have < questions:
            # Questions over the past year, more of them lately (the square of a uniform draw).
            cur.execute(
                """
                INSERT INTO answers_question (organization_id, asker_id, text, origin, scope, searched_as, created_at)
                SELECT %s, (%s::int[])[1 + i %% cardinality(%s::int[])], 'Bench question ' || i,
                       CASE WHEN i %% 25 = 0 THEN 'report' ELSE 'ask' END, '{}', '',
                       now() - interval '1 hour' - (random() ^ 2) * interval '365 days'
                FROM generate_series(%s, %s) AS i
                """,
                [org.pk, user_ids, user_ids, have + 1, questions],
            )
            cur.execute(
                f"""
                INSERT INTO answers_answer (question_id, organization_id, status, text, original_text, notice,
                    provider, model, flags, review_state, unsupported_sentences, uncovered, tokens_in, tokens_out,
                    cost_usd, latency_ms, created_at, finalized_at)
                SELECT q.id, q.organization_id, st, '', '', '', 'openai', 'gpt-4o-mini',
                       CASE WHEN st = 'insufficient_evidence' THEN '["abstained"]'::jsonb ELSE '[]'::jsonb END,
                       CASE st WHEN 'rejected' THEN 'rejected' WHEN 'pending_review' THEN 'pending' ELSE 'none' END,
                       '[]', '[]', 1500, 150, 0.0004 + random() * 0.003, lat, q.created_at + lat * interval '1 ms',
                       q.created_at + lat * interval '1 ms'
                FROM (SELECT q.*, (q.id %% 100) AS s, (400 + random() * random() * 12000)::int AS lat
                      FROM answers_question q LEFT JOIN answers_answer a ON a.question_id = q.id
                      WHERE q.organization_id = %s AND a.id IS NULL) q,
                     LATERAL (SELECT {STATUSES} AS st) AS status
                """,
                [org.pk],
            )
            cur.execute(
                """
                INSERT INTO audit_promptlog (organization_id, user_id, answer_id, feature, provider, model,
                    started_at, finished_at, latency_ms, retrieved_document_ids, retrieved_chunk_ids,
                    cited_chunk_ids, tokens_in, tokens_out, cost_usd, status, error_class, content_mode,
                    prompt_text, output_text)
                SELECT a.organization_id, q.asker_id, a.id, 'answer', 'openai', 'gpt-4o-mini',
                       q.created_at, a.created_at, a.latency_ms, '[]', '[]', '[]', a.tokens_in, a.tokens_out,
                       a.cost_usd, CASE WHEN a.status = 'failed' THEN 'error' ELSE 'ok' END, '', 'none', '', ''
                FROM answers_answer a JOIN answers_question q ON q.id = a.question_id
                LEFT JOIN audit_promptlog p ON p.answer_id = a.id
                WHERE a.organization_id = %s AND p.id IS NULL
                """,
                [org.pk],
            )
            # One decided review item per 20 answers; turnaround from minutes to days.
            cur.execute(
                """
                INSERT INTO review_reviewitem (organization_id, answer_id, state, reason, flags, needs_access_to,
                    notes, edited_text, decision_reason, decided_by_id, decided_at, created_at, question_key,
                    evidence_key)
                SELECT a.organization_id, a.id, CASE WHEN a.status = 'rejected' THEN 'rejected' ELSE 'approved' END,
                       'policy_all', '[]', '[]', '', CASE WHEN a.id %% 3 = 0 THEN 'Edited.' ELSE '' END,
                       '', %s, a.created_at + (60 + random() ^ 3 * 259200) * interval '1 s', a.created_at, '', ''
                FROM answers_answer a LEFT JOIN review_reviewitem r ON r.answer_id = a.id
                WHERE a.organization_id = %s AND r.id IS NULL AND a.status IN ('answered', 'partial', 'rejected')
                  AND (a.id %% 20 = 0 OR a.status = 'rejected')
                """,
                [reviewer_id, org.pk],
            )
        timings["load_questions_seconds"] = round(time.monotonic() - started, 1)
        started = time.monotonic()
        have_feedback = Feedback.objects.filter(answer__organization=org).count()
        if have_feedback < feedback:
            cur.execute(
                """
                INSERT INTO answers_feedback (answer_id, user_id, helpful, reason, comment, created_at)
                SELECT a.id, q.asker_id, a.status = 'answered' AND random() < 0.8,
                       (ARRAY['wrong', 'incomplete', 'wrong_source', 'outdated', ''])[1 + (a.id %% 5)], '',
                       a.created_at + interval '5 minutes'
                FROM answers_answer a JOIN answers_question q ON q.id = a.question_id
                LEFT JOIN answers_feedback f ON f.answer_id = a.id
                WHERE a.organization_id = %s AND f.id IS NULL AND a.status <> 'failed'
                ORDER BY a.id %% 97, a.id LIMIT %s
                """,
                [org.pk, feedback - have_feedback],
            )
            # A helpful row has no reason.
            cur.execute(
                "UPDATE answers_feedback f SET reason = '' FROM answers_answer a "
                "WHERE a.id = f.answer_id AND a.organization_id = %s AND f.helpful AND f.reason <> ''",
                [org.pk],
            )
        timings["load_feedback_seconds"] = round(time.monotonic() - started, 1)
    with connection.cursor() as cur:
        for table in ("answers_question", "answers_answer", "audit_promptlog", "review_reviewitem", "answers_feedback"):
            cur.execute(f"ANALYZE {table}")
    return timings


def refresh(org) -> dict:
    from citadel.console.models import RollupState
    from citadel.console.services import console_refresh

    RollupState.objects.filter(organization=org).delete()
    started = time.monotonic()
    first = console_refresh(organization=org)
    full = time.monotonic() - started
    started = time.monotonic()
    window = console_refresh(organization=org)
    recent = time.monotonic() - started
    return {
        "full_history_seconds": round(full, 2),
        "full_history_rows": first["rows"],
        "recent_days_seconds": round(recent, 2),
        "recent_days_from": window["recomputed_since"],
    }


def _percentiles(samples: list[float]) -> dict:
    samples = sorted(samples)
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(samples[max(0, int(len(samples) * 0.95) - 1)], 1),
        "max_ms": round(samples[-1], 1),
    }


def measure(users, *, requests: int) -> dict:
    from django.test import Client
    from django.utils import timezone

    from citadel.accounts.services import api_token_create

    admin = users[0]
    page = Client()
    page.force_login(admin)
    _, token = api_token_create(user=admin, name="console bench")
    api = Client(headers={"Authorization": f"Bearer {token}"})
    today = timezone.now().date()
    results = {}
    for days in RANGES:
        params = {"since": (today - timedelta(days=days - 1)).isoformat(), "until": today.isoformat()}
        for name, client, path in (("page", page, "/console/"), ("api", api, "/api/v1/usage/")):
            samples = []
            for i in range(requests + 2):
                started = time.perf_counter()
                response = client.get(path, params, HTTP_HOST="localhost")
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise SystemExit(f"{path} answered {response.status_code}")
                if i >= 2:
                    samples.append(elapsed)
            results[f"{name}_{days}d"] = _percentiles(samples)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=1_000_000)
    parser.add_argument("--feedback", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=40)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    org, users = setup(args.members)
    figures = {"questions": args.questions, "feedback": args.feedback, "members": args.members}
    figures.update(load(org, users, questions=args.questions, feedback=args.feedback))
    figures["refresh"] = refresh(org)
    figures["requests"] = measure(users, requests=args.requests)
    figures["worst_p95_ms"] = max(r["p95_ms"] for r in figures["requests"].values())
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
