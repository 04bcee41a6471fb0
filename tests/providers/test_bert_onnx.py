"""The local MiniLM without torch: Citadel's ONNX graph of the packaged weights gives the vectors
sentence-transformers gives (a reference computed once with it and committed), counts tokens as
its tokenizer does, and is built once per data dir."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from citadel.providers import bert_onnx
from citadel.providers.embeddings import MINILM, MINILM_INT8, get_embedder

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = json.loads((Path(__file__).parent / "minilm_reference.json").read_text(encoding="utf-8"))

pytestmark = pytest.mark.model


def _cosines(vectors, reference) -> np.ndarray:
    ours, theirs = np.array(vectors), np.array(reference)
    return (ours * theirs).sum(axis=1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)


def test_its_vectors_are_sentence_transformers_vectors(minilm):
    embedder = get_embedder(MINILM)

    vectors = embedder.embed(REFERENCE["texts"])

    assert _cosines(vectors, REFERENCE["vectors"]).min() >= 0.9999


def test_it_counts_word_pieces_as_the_models_tokenizer_does(minilm):
    embedder = get_embedder(MINILM)

    assert [embedder.count_tokens(text) for text in REFERENCE["texts"]] == REFERENCE["tokens"]


def test_the_int8_model_is_close_but_not_the_same(minilm):
    vectors = get_embedder(MINILM_INT8).embed(REFERENCE["texts"])

    cosines = _cosines(vectors, REFERENCE["vectors"])
    assert 0.85 <= cosines.min() < 0.9999


def test_the_graph_is_built_once_and_kept_under_the_data_dir(minilm, settings, tmp_path):
    settings.DATA_DIR = tmp_path

    first = bert_onnx.minilm_file()
    built_at = first.stat().st_mtime_ns
    again = bert_onnx.minilm_file()

    assert first == again and first.parent == tmp_path / "models" and again.stat().st_mtime_ns == built_at
    assert not list((tmp_path / "models").glob("*.partial"))


def test_the_local_model_runs_without_torch(tmp_path):
    # A process of its own: what it imports is what the default install needs.
    script = (
        "import sys, django; django.setup()\n"
        "from citadel.providers.embeddings import MINILM, get_embedder\n"
        "assert len(get_embedder(MINILM).embed(['Refunds are paid within 14 days.'])[0]) == 384\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "CITADEL_DATA_DIR": str(tmp_path)}
    env["CITADEL_EMBEDDER"] = "local"

    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_another_sentence_transformers_model_runs_with_the_torch_install(minilm):
    pytest.importorskip("sentence_transformers", reason="the optional torch install (requirements-torch.txt)")
    path = str(bert_onnx.minilm_folder())

    embedder = get_embedder(f"st:{path}")

    assert (embedder.model_name, embedder.dimensions) == (f"st:{path}", 384)
    assert _cosines(embedder.embed(REFERENCE["texts"][:3]), REFERENCE["vectors"][:3]).min() >= 0.9999
