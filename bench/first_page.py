"""From a clean clone to a served page: `make run` in a fresh clone of each commit (its own .venv
and data dir, pip's download cache shared), timed until the login page answers, the commits
alternating in one run.

    .venv/bin/python bench/first_page.py BEFORE_COMMIT AFTER_COMMIT [--rounds 2]

Also prints each fresh .venv's size. Port 8000 must be free (make run serves there).
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
URL = "http://127.0.0.1:8000/login/"


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def first_page(commit: str, timeout: float) -> tuple[float, int]:
    clone = Path(tempfile.mkdtemp(prefix="citadel-first-page-"))
    try:
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        subprocess.run(["git", "checkout", "-q", commit], cwd=clone, check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CITADEL_", "VIRTUAL_ENV", "DJANGO_"))}
        started = time.monotonic()
        server = subprocess.Popen(
            ["make", "run"], cwd=clone, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        try:
            while time.monotonic() - started < timeout:
                if server.poll() is not None:
                    raise RuntimeError(f"make run of {commit} exited with {server.returncode}")
                try:
                    with urllib.request.urlopen(URL, timeout=2) as response:
                        if response.status == 200:
                            return time.monotonic() - started, _size(clone / ".venv")
                except OSError:
                    pass
                time.sleep(1)
            raise RuntimeError(f"{commit} served no page in {timeout:.0f} s")
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)
            subprocess.run(
                [str(clone / ".venv/bin/python"), "-c", "from config.database import stop_embedded; from pathlib import Path; stop_embedded(Path('var').resolve())"],
                cwd=clone, env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"}, capture_output=True,
            )  # fmt: skip
    finally:
        shutil.rmtree(clone, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("commits", nargs=2, metavar="COMMIT")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    seconds: dict[str, list[float]] = {c: [] for c in args.commits}
    for round_ in range(args.rounds):
        order = args.commits if round_ % 2 == 0 else list(reversed(args.commits))
        for commit in order:
            elapsed, venv = first_page(commit, args.timeout)
            seconds[commit].append(elapsed)
            print(f"round {round_ + 1}: {commit[:10]}: first page after {elapsed:.0f} s; .venv {venv / 1e9:.2f} GB")
    before, after = (statistics.median(seconds[c]) for c in args.commits)
    print(
        f"median: {args.commits[0][:10]} {before:.0f} s, {args.commits[1][:10]} {after:.0f} s; ratio {after / before:.2f}"
    )


if __name__ == "__main__":
    main()
