"""Scans and the digital-PDF path, as a user meets them.

    CITADEL_DATA_DIR=/work/var-bench .venv/bin/python bench/scan_ingest.py [--scanned-pages 50] [--digital-pages 200]

1. OCR throughput: a scanned PDF of `--scanned-pages` pages (page images only, drawn from the demo
   handbook's text) parsed in the sandbox: pages per second, and the same file's time from upload to
   `ready` through the whole pipeline (OCR, chunking, MiniLM embedding, indexing).
2. The text-layer path: a digital PDF of `--digital-pages` pages parsed in the sandbox, median of
   `--rounds`. Run it against the code before a change with PYTHONPATH pointing at that checkout
   (`--parse-only` skips the database), alternating runs, and compare the medians. Run it from a
   directory outside both checkouts (`cd /tmp`): the sandbox's forkserver puts the working
   directory first on its path.
"""

import argparse
import os
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo" / "src"
# PYTHONPATH names another checkout for a side-by-side run; the sandbox's child processes must
# import the same one, so this checkout is added only when none is named.
if not os.environ.get("PYTHONPATH"):
    sys.path.insert(0, str(ROOT))


def handbook_paragraphs() -> list[str]:
    paragraphs = []
    for path in sorted(DEMO.glob("*.md")):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip().lstrip("#- ").strip()
            if len(line) > 60:
                paragraphs.append(line)
    return paragraphs


def scanned_pdf(pages: int) -> bytes:
    from io import BytesIO

    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=30)
    paragraphs = handbook_paragraphs()
    images, k = [], 0
    for _ in range(pages):
        image = Image.new("1", (1700, 2200), 1)
        draw = ImageDraw.Draw(image)
        y = 150
        while y < 1950:
            for line in textwrap.wrap(paragraphs[k % len(paragraphs)], 82):
                draw.text((150, y), line, font=font, fill=0)
                y += 43
            y += 24
            k += 1
        images.append(image)
    out = BytesIO()
    images[0].save(out, "PDF", resolution=200, save_all=True, append_images=images[1:])
    return out.getvalue()


def digital_pdf(pages: int) -> bytes:
    from fpdf import FPDF

    paragraphs = handbook_paragraphs()
    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    for n in range(pages):
        pdf.add_page()
        text = "\n\n".join(paragraphs[(n * 5 + i) % len(paragraphs)] for i in range(5))
        pdf.multi_cell(0, 6, text.encode("latin-1", "replace").decode("latin-1"))
    return bytes(pdf.output())


def parse_seconds(data: bytes, *, ocr_seconds: int = 3600) -> tuple[float, object]:
    from citadel.ingestion.sandbox import SandboxLimits, parse_sandboxed

    fields = SandboxLimits.__dataclass_fields__
    extra = {"ocr_seconds": ocr_seconds} if "ocr_seconds" in fields else {}
    limits = SandboxLimits(timeout_seconds=3600, memory_bytes=2 * 1024**3, max_pdf_pages=5000, **extra)
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(data)
        handle.flush()
        start = time.perf_counter()
        parsed = parse_sandboxed(handle.name, "pdf", limits)
        return time.perf_counter() - start, parsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scanned-pages", type=int, default=50)
    parser.add_argument("--digital-pages", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--parse-only", action="store_true", help="only the digital PDF's parse time")
    args = parser.parse_args()

    digital = digital_pdf(args.digital_pages)
    times = [parse_seconds(digital)[0] for _ in range(args.rounds)]
    print(
        f"digital PDF, {args.digital_pages} pages: parse median {statistics.median(times):.3f} s "
        f"({', '.join(f'{t:.3f}' for t in times)})"
    )
    if args.parse_only:
        return

    scan = scanned_pdf(args.scanned_pages)
    seconds, parsed = parse_seconds(scan)
    confidences = [p.confidence for p in parsed.pages if p.confidence is not None]
    print(
        f"scanned PDF, {args.scanned_pages} pages: OCR parse {seconds:.1f} s = "
        f"{args.scanned_pages / seconds:.2f} pages/s; mean confidence {statistics.mean(confidences):.1f}"
    )

    from _ingest_common import cleanup, embedder, ingest, setup_principal

    org, principal = setup_principal()
    try:
        embedder(org)
        version, seconds = ingest(principal, "scan.pdf", scan, "scan")
        print(
            f"scanned PDF, {args.scanned_pages} pages: upload to ready {seconds:.1f} s "
            f"({version.chunks.count()} chunks, {version.pages.filter(method='ocr').count()} pages read by OCR)"
        )
    finally:
        cleanup(org)


if __name__ == "__main__":
    main()
