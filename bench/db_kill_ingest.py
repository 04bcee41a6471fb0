"""The database server killed (SIGKILL) in the middle of ingestion, again and again.

    .venv/bin/python bench/db_kill_ingest.py [--repeat 20] [--docs 30] [--budget-minutes 25]

Each repetition (tests/database_kill.py) builds a throwaway data dir with its own embedded
PostgreSQL, queues `--docs` documents to two workers, SIGKILLs every process of that server once
some are ready, kills the workers, restarts the server, starts two fresh workers and runs
`manage.py reap_stale` until nothing is in progress. One line per repetition (versions by status at
the kill and at the end, what the reaper did, any version left in progress with its attempts, lease
and tasks, the failed ones' sentences), then "N of M repetitions: every document ready or failed".
Exits 1 when a repetition left a document in progress (or could not run). The test session's
database and CITADEL_DATA_DIR are never used; DATABASE_URL is ignored.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--docs", type=int, default=30)
    parser.add_argument("--step-delay", type=float, default=0.1, help="CITADEL_INGEST_STEP_DELAY_SECONDS")
    parser.add_argument("--settle-timeout", type=float, default=120, help="seconds after the restart")
    parser.add_argument(
        "--budget-minutes", type=float, default=0, help="start no repetition after this long (0: no limit)"
    )
    parser.add_argument("--seed", type=int, default=0, help="added to the repetition number to draw the kill point")
    parser.add_argument("--no-orphan", action="store_true", help="leave no task claimed by a dead worker on purpose")
    parser.add_argument("--workdir", type=Path, default=None, help="default: a new temporary directory")
    parser.add_argument("--keep-failed", action="store_true", help="keep a failed repetition's directory")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from tests.database_kill import database_kill_cleanup, database_kill_run

    base = args.workdir or Path(tempfile.mkdtemp(prefix="db-kill-"))
    base.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    ran = ok = kept = 0
    for n in range(1, args.repeat + 1):
        if args.budget_minutes and time.monotonic() - started > args.budget_minutes * 60:
            break
        workdir = base / f"repetition-{n:02d}"
        outcome = database_kill_run(
            workdir,
            repetition=n,
            documents=args.docs,
            step_delay=args.step_delay,
            settle_timeout=args.settle_timeout,
            seed=n + args.seed,
            orphan=not args.no_orphan,
        )
        print(outcome.line(), flush=True)
        ran += 1
        ok += outcome.ok
        if outcome.ok or not args.keep_failed:
            database_kill_cleanup(workdir)
        else:
            kept += 1
            print(f"  kept {workdir} (worker logs, data dir)", flush=True)
    if not args.workdir and not kept:
        database_kill_cleanup(base)
    total = time.monotonic() - started
    cut = f" ({ran} of {args.repeat} run within {args.budget_minutes:g} minutes)" if ran < args.repeat else ""
    print(f"{ok} of {ran} repetitions: every document ready or failed{cut}; {total / max(ran, 1):.1f}s each")
    return 0 if ran and ok == ran else 1


if __name__ == "__main__":
    sys.exit(main())
