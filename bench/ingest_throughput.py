"""End-to-end ingestion throughput next to the raw embedding throughput of the same model on the
same texts, in the same run (goal: the pipeline reaches >= 0.85 of the raw model).

    CITADEL_DATA_DIR=/work/var-bench .venv/bin/python bench/ingest_throughput.py [--sections 300] \
        [--embedding-model all-MiniLM-L6-v2-int8]

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

from citadel.ingestion.embedding import EMBED_BATCH_SIZE


def raw_throughput(model, texts: list[str]) -> float:
    start = time.perf_counter()
    for offset in range(0, len(texts), EMBED_BATCH_SIZE):
        model.embed(texts[offset : offset + EMBED_BATCH_SIZE])
    return len(texts) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sections", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--embedding-model", help="the organization's embedding model (all-MiniLM-L6-v2-int8)")
    args = parser.parse_args()

    org, principal = setup_principal()
    if args.embedding_model:
        org.embedding_model = args.embedding_model
        org.save(update_fields=["embedding_model"])
    try:
        model = embedder(org)
        ratios, pipelines, raws = [], [], []
        for round_number in range(args.rounds):
            # Each round ingests new text (no vector can be reused), then embeds the very chunk
            # texts it produced; alternating keeps a shared machine's drift off the ratio.
            body = "\n\n".join(
                f"## Section {n}\n\n" + " ".join(sentence(n * 10 + i + round_number * 100_000) for i in range(9))
                for n in range(args.sections)
            )
            version, seconds = ingest(
                principal, f"bench{round_number}.md", f"# Handbook\n\n{body}\n".encode(), f"t{round_number}"
            )
            texts = list(version.chunks.order_by("ordinal").values_list("text", flat=True))
            pipeline, raw = len(texts) / seconds, raw_throughput(model, texts)
            pipelines.append(pipeline)
            raws.append(raw)
            ratios.append(pipeline / raw)
            print(
                f"round {round_number + 1}: {len(texts)} chunks; pipeline {pipeline:.1f} chunks/s; raw {raw:.1f} chunks/s; ratio {pipeline / raw:.3f}"
            )
        tokens = statistics.mean(version.chunks.values_list("token_count", flat=True))
        print(f"model: {model.model_name}; mean tokens per chunk: {tokens:.0f}; batch size {EMBED_BATCH_SIZE}")
        print(
            f"median: end-to-end {statistics.median(pipelines):.1f} chunks/s vs raw {statistics.median(raws):.1f} "
            f"chunks/s; median ratio {statistics.median(ratios):.3f} (goal >= 0.85)"
        )
    finally:
        cleanup(org)


if __name__ == "__main__":
    main()
