"""A 15-item checklist over a 40-page policy: time from running it to `needs_review`.

    CITADEL_DATA_DIR=/work/var-bench .venv/bin/python bench/report_checklist.py [--pages 40] [--rounds 3]

The policy is the demo's travel and expenses policy, its sections spread over `--pages` PDF pages
with the rest of the handbook's paragraphs between them (so retrieval has a long document to search).
The checklist is the demo's "policy review" plus three items. Each round runs the checklist as a new
report, the way the worker does (every item through the answer path with MiniLM and the extractive
answerer, each sent to review), and prints the median time to needs_review, the time per item, and
the values read, so a change that slows it or loses a value shows.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _ingest_common import cleanup, embedder, ingest, setup_principal  # noqa: E402
from fpdf import FPDF  # noqa: E402

from citadel.reports.models import ReportStatus  # noqa: E402
from citadel.reports.services import report_execute, report_start, report_template_create  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo"
EXTRA_ITEMS = [
    {"question": "How much is reimbursed per mile for a personal car?", "type": "amount"},
    {"question": "How many bags are reimbursed on trips of up to five nights?", "type": "text"},
    {"question": "What is the hotline number of Global Assist?", "type": "text"},
]


def _paragraphs(path: Path) -> list[str]:
    return [
        line.strip().lstrip("#- ").strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def long_policy(pages: int) -> bytes:
    policy = _paragraphs(DEMO / "src" / "travel-expenses-policy.md")
    filler = [
        p
        for path in sorted((DEMO / "src").glob("*.md"))
        if path.stem not in ("travel-expenses-policy", "support-travel-budget")
        for p in _paragraphs(path)
        if len(p) > 80
    ]
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=False)
    per_page = max(1, len(policy) // pages + 1)
    k = 0
    for page in range(pages):
        pdf.add_page()
        pdf.set_font("Helvetica", size=10)
        pdf.set_y(15)
        chunk = policy[page * per_page : (page + 1) * per_page]
        for text in chunk:
            pdf.multi_cell(0, 5, text.encode("latin-1", "replace").decode("latin-1"), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        while pdf.get_y() < 250:
            pdf.multi_cell(
                0,
                5,
                filler[k % len(filler)].encode("latin-1", "replace").decode("latin-1"),
                new_x="LMARGIN",
                new_y="NEXT",
            )
            pdf.ln(2)
            k += 1
    return bytes(pdf.output())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    org, principal = setup_principal()
    try:
        embedder(org)
        print(f"embedder: {org.embedding_model}")
        version, seconds = ingest(principal, "policy.pdf", long_policy(args.pages), "long-policy")
        print(f"policy: {args.pages} pages, {version.chunks.count()} passages, ingested in {seconds:.1f} s")
        data = json.loads((DEMO / "checklists" / "policy-review.json").read_text())
        data["items"] = data["items"] + EXTRA_ITEMS
        report_template_create(organization_id=org.pk, data=data)
        items = len(data["items"])
        timings = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            report = report_start(
                principal=principal, template_slug=data["slug"], document_ids=[version.document_id], enqueue=False
            )
            report = report_execute(report_id=report.pk)
            timings.append(time.perf_counter() - started)
            assert report.status == ReportStatus.NEEDS_REVIEW, report.error_message
        median = statistics.median(timings)
        print(f"{items}-item checklist to needs_review: median {median:.2f} s over {args.rounds} rounds")
        print(f"  per item: {median / items * 1000:.0f} ms; rounds: {', '.join(f'{t:.2f}' for t in timings)}")
        for item in report.items.order_by("n"):
            print(f"  {item.n:2}. [{item.type}] {item.value or '(none)'}  {item.question_text}")
    finally:
        cleanup(org)


if __name__ == "__main__":
    main()
