"""The asking path's query embedding: all-MiniLM-L6-v2 on ONNX Runtime (the default) against the
same model on PyTorch via sentence-transformers (the optional torch install), one thread each, the
same questions alternating in one process; prints the median milliseconds per question.

    .venv/bin/python bench/query_embedding.py [--questions 300]   # needs requirements-torch.txt
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import django  # noqa: E402

django.setup()

from citadel.evaluation.golden import parse_golden_jsonl  # noqa: E402
from citadel.providers.bert_onnx import minilm_folder  # noqa: E402
from citadel.providers.embeddings import LocalMiniLM, SentenceTransformersEmbedder  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=300)
    args = parser.parse_args()
    golden = parse_golden_jsonl((ROOT / "demo" / "golden.jsonl").read_text())
    questions = [row.question for row in golden]
    questions = (questions * (args.questions // len(questions) + 1))[: args.questions]
    onnx, torch = LocalMiniLM(), SentenceTransformersEmbedder(str(minilm_folder()))
    timings = {"onnx": [], "torch": []}
    for question in questions[:10]:
        onnx.embed([question])
        torch.embed([question])
    for n, question in enumerate(questions):
        for name, model in (("onnx", onnx), ("torch", torch)) if n % 2 else (("torch", torch), ("onnx", onnx)):
            started = time.perf_counter()
            model.embed([question])
            timings[name].append((time.perf_counter() - started) * 1000)
    onnx_ms, torch_ms = statistics.median(timings["onnx"]), statistics.median(timings["torch"])
    print(
        f"{len(questions)} questions: ONNX Runtime {onnx_ms:.2f} ms, PyTorch {torch_ms:.2f} ms median per question; "
        f"ONNX at {onnx_ms / torch_ms:.0%} of PyTorch's time"
    )


if __name__ == "__main__":
    main()
