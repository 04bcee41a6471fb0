"""Follow-up questions as a thread asks them: searched bare, or as the standalone question the person
meant. The baseline every rewrite of a follow-up is measured against.

    CITADEL_DATA_DIR=/work/var-<you> HF_HUB_OFFLINE=1 .venv/bin/python bench/followups.py [--reuse]

The demo corpus (demo/corpus/*) is ingested through the real pipeline (real all-MiniLM-L6-v2,
in-process) into an organization of its own, as the demo seeds it: readable by the whole
organization except the Support team's travel budget, which only team Support reads; the asker is a
member of team Support. --reuse keeps an organization ingested by an earlier run.

demo/threads.jsonl holds the threads (see demo/README.md). Before anything is measured, every
turn's `fact` is checked to occur, case-sensitively, in the text Citadel extracted from each of its
expected documents; a fact that does not stops the bench.

For every follow-up turn (turn 2 onwards), asked by the member with the real retrieval and the
extractive answer (answer_question, the organization's own review policy), two ways:
* bare (or rewritten): the query `searched_as(question, history)` returns, the follow-up as the
  offline rewrite (citadel/reading/followups.py) turns it from its thread; with --bare, the follow-up
  as asked, the baseline the rewrite is measured against;
* standalone: the turn's standalone form, written out in full in the file.
Each way gets recall@10 (the share of the turn's expected documents among the documents of the
first 10 passages `retrieve` returns), hit@1 (the first passage is from an expected document: on a
corpus of 20 documents recall@10 is nearly saturated, so this is the sharper view) and fact_quoted (the share of turns whose written answer holds
the fact, compared case-insensitively with whitespace collapsed, as PDF text wraps). `unchanged` is
the share of follow-ups that stand on their own (standalone equal to the question) that
`searched_as` leaves exactly as asked, and `rewrite_ms` the mean time `searched_as` takes.

--split dev measures one half only (fit on dev, report held_out). --fit prints, for each content-word
threshold of the rule that decides whether a follow-up leans on its thread, how many dev follow-ups it
gets wrong, without measuring anything: that is how MAX_CONTENT_WORDS was chosen.

It prints one JSON object: per split (dev, held_out), then over both ("rewrite", or "bare" with
--bare, "standalone", "unchanged", "turns"), and "rewrite_ms". The held-out half is the one to report:
nothing may be fitted on it.
"""

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# A benchmark asks hundreds of questions a minute as one member: the abuse limits would refuse it.
os.environ.setdefault(
    "CITADEL_RATE_LIMITS", json.dumps({"ask_user": {"limit": 0, "window": 60}, "ask_org": {"limit": 0, "window": 60}})
)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from citadel.accounts.models import Organization  # noqa: E402
from citadel.accounts.selectors import principal_for_username  # noqa: E402
from citadel.accounts.services import organization_create, user_create_or_join  # noqa: E402
from citadel.answers.services import answer_question  # noqa: E402
from citadel.core.principal import Principal  # noqa: E402
from citadel.documents.models import DocumentVersion  # noqa: E402
from citadel.reading import followups  # noqa: E402
from citadel.reading.followups import Turn, standalone_question  # noqa: E402
from citadel.retrieval.services import retrieve  # noqa: E402

SLUG = "followups"
ADMIN, MEMBER = f"{SLUG}-admin", f"{SLUG}-member"
CORPUS = ROOT / "demo" / "corpus"
THREADS = ROOT / "demo" / "threads.jsonl"
# As demo seeding restricts them (citadel/ops/management/commands/seed_demo.py DEMO_RESTRICTED).
RESTRICTED = {"support-travel-budget.md": "Support"}
K = 10


def searched_as(question: str, history: list[dict]) -> str:
    """The query a follow-up is searched as, given the thread's earlier turns (each {"question",
    "searched_as"}): the offline rewrite."""
    return standalone_question(question, [Turn(h["question"], h["searched_as"]) for h in history]).text


def as_asked(question: str, history: list[dict]) -> str:
    return question


def fit(threads: list[dict]) -> None:
    """Errors of the lean-on-thread rule on the dev follow-ups, for each content-word threshold."""
    turns = [turn for thread in threads if thread["split"] == "dev" for turn in thread["turns"][1:]]
    chosen = followups.MAX_CONTENT_WORDS
    try:
        for threshold in range(5):
            followups.MAX_CONTENT_WORDS = threshold
            flagged_alone = sum(
                followups.leans_on_thread(t["question"]) for t in turns if t["standalone"] == t["question"]
            )
            missed = sum(
                not followups.leans_on_thread(t["question"]) for t in turns if t["standalone"] != t["question"]
            )
            print(json.dumps({"max_content_words": threshold, "standalone_flagged": flagged_alone, "missed": missed}))
    finally:
        followups.MAX_CONTENT_WORDS = chosen


def organization(*, reuse: bool) -> Principal:
    org = Organization.objects.filter(slug=SLUG).first()
    if org is not None and not reuse:
        org.delete()
        org = None
    if org is None:
        org = organization_create(slug=SLUG, name="Follow-up bench")
        user_create_or_join(username=ADMIN, organization=org, role="admin", teams=["People Ops"])
        user_create_or_join(username=MEMBER, organization=org, role="member", teams=["Support"])
        with open(os.devnull, "w") as quiet:
            files = sorted(CORPUS.iterdir())
            common = [str(p) for p in files if p.name not in RESTRICTED]
            call_command("ingest", *common, "--org", SLUG, "--as", ADMIN, "--sync", "--json", stdout=quiet)
            for name, team in RESTRICTED.items():
                call_command(
                    "ingest", str(CORPUS / name), "--org", SLUG, "--as", ADMIN, "--team", team, "--sync", "--json",
                    stdout=quiet,
                )  # fmt: skip
    return principal_for_username(username=MEMBER, org_slug=SLUG)


def check_facts(principal: Principal, threads: list[dict]) -> None:
    texts = defaultdict(str)
    for external_id, text in DocumentVersion.objects.filter(
        document__organization_id=principal.organization_id
    ).values_list("document__external_id", "text"):
        texts[external_id] += text + "\n"
    missing = [
        f"{thread['id']}: {turn['fact']!r} not in {expected}"
        for thread in threads
        for turn in thread["turns"]
        for expected in turn["expected"]
        if turn["fact"] not in texts[expected]
    ]
    if missing:
        raise SystemExit("facts not found in their documents:\n" + "\n".join(missing))


def squashed(text: str) -> str:
    return " ".join(text.split()).casefold()


def measure(principal: Principal, query: str, turn: dict) -> tuple[float, bool, bool]:
    """(recall@10, the first passage from an expected document, the fact quoted)."""
    hits = retrieve(principal=principal, query=query, k=K)
    recall = len({hit.external_id for hit in hits} & set(turn["expected"])) / len(turn["expected"])
    answer = answer_question(principal=principal, text=query)
    written = answer.text or answer.original_text or ""
    return recall, bool(hits) and hits[0].external_id in turn["expected"], squashed(turn["fact"]) in squashed(written)


def summary(rows: list[dict], searched: str) -> dict:
    def share(values) -> float | None:
        values = list(values)
        return round(sum(values) / len(values), 3) if values else None

    def way(name: str) -> dict:
        return {
            "recall@10": share(r[name][0] for r in rows),
            "hit@1": share(r[name][1] for r in rows),
            "fact_quoted": share(r[name][2] for r in rows),
        }

    alone = [r for r in rows if r["stands_alone"]]
    return {
        searched: way("bare"),
        "standalone": way("standalone"),
        "unchanged": share(r["unchanged"] for r in alone),
        "turns": len(rows),
        "standing_alone": len(alone),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reuse", action="store_true", help="Keep the organization ingested by an earlier run.")
    parser.add_argument("--verbose", action="store_true", help="Print each follow-up's outcome to stderr.")
    parser.add_argument("--bare", action="store_true", help="Search follow-ups as asked: the baseline.")
    parser.add_argument("--split", choices=("dev", "held_out"), help="Measure one half only.")
    parser.add_argument(
        "--fit", action="store_true", help="Print the rule's dev errors per threshold; measure nothing."
    )
    args = parser.parse_args()

    threads = [json.loads(line) for line in THREADS.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.fit:
        fit(threads)
        return
    rewrite, searched = (as_asked, "bare") if args.bare else (searched_as, "rewrite")
    splits = (args.split,) if args.split else ("dev", "held_out")
    threads = [thread for thread in threads if thread["split"] in splits]
    started = time.monotonic()
    call_command("migrate", verbosity=0)
    principal = organization(reuse=args.reuse)
    check_facts(principal, threads)

    rows, rewrite_seconds = [], []
    for thread in threads:
        history = []
        for number, turn in enumerate(thread["turns"]):
            query = turn["question"]
            if number:
                tick = time.perf_counter()
                query = rewrite(turn["question"], history)
                rewrite_seconds.append(time.perf_counter() - tick)
            if number:
                stands_alone = turn["standalone"] == turn["question"]
                bare = measure(principal, query, turn)
                # A follow-up that stands on its own is its own standalone form: asked once.
                full = bare if turn["standalone"] == query else measure(principal, turn["standalone"], turn)
                rows.append(
                    {
                        "split": thread["split"],
                        "stands_alone": stands_alone,
                        "unchanged": query == turn["question"],
                        "bare": bare,
                        "standalone": full,
                    }
                )
                if args.verbose:
                    print(f"{thread['id']} {query!r}: bare {bare}, standalone {full}", file=sys.stderr)
            history.append({"question": turn["question"], "searched_as": query})

    result = {
        "split": {split: summary([r for r in rows if r["split"] == split], searched) for split in splits},
        **summary(rows, searched),
        "rewrite_ms": round(1000 * sum(rewrite_seconds) / max(len(rewrite_seconds), 1), 3),
        "threads": len(threads),
        "seconds": round(time.monotonic() - started, 1),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
