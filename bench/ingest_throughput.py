"""End-to-end ingestion throughput next to the raw embedding throughput of the same model on the
same texts, in the same run (goal: the pipeline reaches >= 0.85 of the raw model).

    CITADEL_DATA_DIR=/work/var-bench .venv/bin/python bench/ingest_throughput.py [--sections 300]

The pipeline figure is chunks per second for upload -> scanning -> parsing (sandboxed child
process) -> chunking -> embedding -> indexing -> ready of one Markdown document, wall time. The raw
figure is `embedder.embed` on the very chunk texts the pipeline produced, in the pipeline's batch
size, measured before and after the pipeline (their mean is used, so drift on a shared machine
does not favour either side).
"""

import argparse
import statistics
import time

from _ingest_common import cleanup, embedder, ingest, sentence, setup_principal

from citadel.ingestion.services import EMBED_BATCH_SIZE


def raw_throughput(model, texts: list[str]) -> float:
    start = time.perf_counter()
    for offset in range(0, len(texts), EMBED_BATCH_SIZE):
        model.embed(texts[offset : offset + EMBED_BATCH_SIZE])
    return len(texts) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sections", type=int, default=300)
    args = parser.parse_args()

    org, principal = setup_principal()
    try:
        model = embedder(org)
        body = "\n\n".join(
            f"## Section {n}\n\n" + " ".join(sentence(n * 10 + i) for i in range(9)) for n in range(args.sections)
        )
        source = f"# Benchmark handbook\n\n{body}\n".encode()
        # Texts for the first raw run: the same chunking, without the database.
        version, pipeline_seconds = ingest(principal, "bench.md", source, "throughput")
        texts = list(version.chunks.order_by("ordinal").values_list("text", flat=True))
        raw_before = raw_throughput(model, texts)
        # A second document with the same structure (new text, so no vector is reused).
        source2 = source.replace(b"clause", b"article")
        version2, pipeline_seconds2 = ingest(principal, "bench2.md", source2, "throughput-2")
        texts2 = list(version2.chunks.order_by("ordinal").values_list("text", flat=True))
        raw_after = raw_throughput(model, texts2)

        pipeline = statistics.mean([len(texts) / pipeline_seconds, len(texts2) / pipeline_seconds2])
        raw = statistics.mean([raw_before, raw_after])
        tokens = statistics.mean(version.chunks.values_list("token_count", flat=True))
        print(f"model: {model.model_name}; chunks per document: {len(texts)}; mean tokens per chunk: {tokens:.0f}")
        print(f"pipeline: {len(texts) / pipeline_seconds:.1f} and {len(texts2) / pipeline_seconds2:.1f} chunks/s")
        print(f"raw embed: {raw_before:.1f} and {raw_after:.1f} chunks/s")
        print(f"end-to-end {pipeline:.1f} chunks/s vs raw {raw:.1f} chunks/s: ratio {pipeline / raw:.3f} (goal >= 0.85)")
    finally:
        cleanup(org)


if __name__ == "__main__":
    main()
