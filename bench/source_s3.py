"""Sync throughput from an S3 server against uploads of the same files, side by side in one run.

    CITADEL_DATA_DIR=/work/var-bench .venv/bin/python bench/source_s3.py [--files 1000] [--rounds 3]

Starts moto's S3 server on 127.0.0.1 and puts `--files` Markdown files under a prefix for each
round. Each round, alternating, (a) syncs an S3 source of that prefix: listing, fetching each
object over HTTP, storing it and creating its document; (b) uploads the same files with
`document_upload`, as `ingest` and the upload page do, from memory. Neither ingests (parsing and
embedding cost the same after either; bench/ingest_throughput.py measures them). Prints files per
second of each round and the medians' ratio.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# moto listens on 127.0.0.1, which sources reach only where the operator opens it.
os.environ.setdefault("CITADEL_SOURCE_ALLOWED_NETWORKS", "127.0.0.1/32")
import boto3  # noqa: E402
from _ingest_common import cleanup, sentence, setup_principal  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402

from citadel.documents.services import document_upload  # noqa: E402
from citadel.sources.services import source_create, source_sync_run, source_sync_start  # noqa: E402

BUCKET = "citadel-bench"


def _moto() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("moto_server did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    server, url = _moto()
    org, principal = setup_principal()
    client = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    sync_rates, upload_rates = [], []
    try:
        for round_ in range(args.rounds):
            files = {
                f"team-{n % 20:02d}/note-{n:05d}.md": f"# Note {n} of round {round_}\n\n{sentence(n)} {sentence(n + 1)}\n"
                for n in range(args.files)
            }
            for key, text in files.items():
                client.put_object(Bucket=BUCKET, Key=f"round-{round_}/{key}", Body=text.encode())
            source = source_create(
                principal=principal,
                kind="s3",
                name=f"Bench {round_}",
                config={
                    "bucket": BUCKET,
                    "prefix": f"round-{round_}",
                    "endpoint_url": url,
                    "region": "us-east-1",
                    "access_key_id": os.environ["AWS_ACCESS_KEY_ID"],
                    "secret_access_key": os.environ["AWS_SECRET_ACCESS_KEY"],
                },
            )
            started = time.perf_counter()
            sync = source_sync_start(principal=principal, source_id=source.pk, enqueue=False)
            result = source_sync_run(sync_id=sync.pk, enqueue=False)
            sync_seconds = time.perf_counter() - started
            assert result.sync.added == args.files, (result.sync.added, result.sync.error_message)

            started = time.perf_counter()
            for key, text in files.items():
                name = key.rsplit("/", 1)[-1]
                document_upload(
                    principal=principal,
                    file=ContentFile(text.encode(), name=name),
                    filename=name,
                    external_id=f"upload-{round_}/{key}",
                    enqueue=False,
                )
            upload_seconds = time.perf_counter() - started
            sync_rates.append(args.files / sync_seconds)
            upload_rates.append(args.files / upload_seconds)
            print(
                f"round {round_ + 1}: S3 sync {args.files / sync_seconds:.1f} files/s ({sync_seconds:.1f} s), "
                f"uploads {args.files / upload_seconds:.1f} files/s ({upload_seconds:.1f} s)"
            )
        sync_median, upload_median = statistics.median(sync_rates), statistics.median(upload_rates)
        print(
            f"median: S3 sync {sync_median:.1f} files/s, uploads {upload_median:.1f} files/s; "
            f"the sync runs at {sync_median / upload_median:.0%} of the uploads' rate"
        )
    finally:
        cleanup(org)
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
