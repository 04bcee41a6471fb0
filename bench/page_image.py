"""Opening a PDF citation's page image, first and second time, through the real view (Django's
test client, logged in as the asker), the page drawn in the sandbox on the first open and read from
storage on the second (goal: the second at least 5 times faster).

    CITADEL_DATA_DIR=/work/var-bench-pages .venv/bin/python bench/page_image.py [--pages 30] [--rounds 7]

Each round ingests a new multi-page PDF (a fresh version, so its first open draws), asks a question
answered on one of its pages, then opens the cited page twice. Prints each round and the medians.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("CITADEL_EMBEDDER", "fake")  # what is measured never embeds
from _ingest_common import cleanup, ingest, sentence, setup_principal  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from citadel.answers.services import answer_question  # noqa: E402
from tests.files import pdf_bytes  # noqa: E402


def _pages(count: int, round_: int, cited: int) -> list[str]:
    pages = [" ".join(sentence(round_ * 1000 + p * 40 + i) for i in range(24)) for p in range(count)]
    pages[cited - 1] += (
        f" Staff travelling to region {round_} are reimbursed up to {150 + round_} euros per night for a hotel room."
    )
    return pages


def _open(client: Client, url: str) -> float:
    start = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200 and response.content.startswith(b"\x89PNG"), response.status_code
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    setup_test_environment()  # the test client's host is allowed
    org, principal = setup_principal()
    org.review_policy = "none"
    org.save(update_fields=["review_policy"])
    client = Client()
    client.force_login(get_user_model().objects.get(pk=principal.user_id))
    try:
        firsts, seconds = [], []
        for round_ in range(args.rounds):
            cited = 1 + (round_ * 7) % args.pages
            version, _ = ingest(
                principal, f"manual-{round_}.pdf", pdf_bytes(_pages(args.pages, round_, cited)), f"manual-{round_}"
            )
            answer = answer_question(
                principal=principal, text=f"How much is a hotel room per night reimbursed in region {round_}?"
            )
            citation = next(
                (
                    c
                    for c in answer.citations.select_related("passage__chunk")
                    if c.passage.chunk.version_id == version.pk
                ),
                None,
            )
            assert citation is not None, f"round {round_}: the answer ({answer.status}) cites no page of the manual"
            url = reverse("answers:source_page", args=[answer.pk, citation.n]) + f"?citation={citation.pk}"
            first, second = _open(client, url), _open(client, url)
            firsts.append(first)
            seconds.append(second)
            print(
                f"round {round_ + 1}: page {citation.passage.chunk.page} of {args.pages}: "
                f"first open {first * 1000:.0f} ms, second {second * 1000:.1f} ms"
            )
        first, second = statistics.median(firsts), statistics.median(seconds)
        print(
            f"median of {args.rounds}: first open {first * 1000:.0f} ms, second {second * 1000:.1f} ms; "
            f"second {first / second:.1f}x faster (goal >= 5x)"
        )
    finally:
        cleanup(org)


if __name__ == "__main__":
    main()
