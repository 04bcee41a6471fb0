"""The reader: a cross-encoder trained here that says how likely a sentence answers a question, and
which of its words do.

all-MiniLM-L6-v2 reads "[CLS] question [SEP] sentence [SEP]" whole; its top layers, its pooler and
two small heads were fine-tuned on SQuAD (bench/train_reader.py, model card in model/README.md).
What ships is the delta (model/reader.safetensors: the trained layers as int8 with a scale per row,
the heads in float32). On first use it is merged into the shipped MiniLM weights and built into an
ONNX graph by the same builder as the embedder's (providers/bert_onnx.py), kept under the data dir.

The answer logit becomes a probability by the Platt scaling fitted, when the model was trained, on
six SQuAD articles kept out of training and never reported (stored with the delta), so a score of 0.8 means about 8 in 10 such sentences
answer. Which probabilities show an answer, send it to review or decline it is the policy
(model/policy.json), chosen on development data by bench/fit_reader.py.
"""

import hashlib
import json
import math
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings

from citadel.providers import bert_onnx

MODEL_DIR = Path(__file__).with_name("model")
DELTA_FILE = MODEL_DIR / "reader.safetensors"
POLICY_FILE = MODEL_DIR / "policy.json"
# At most this many candidate sentences are read per question, in one batched call.
MAX_CANDIDATES = 16
# Part of the cached graph's name: a change to how the delta is merged must change it.
MERGE_VERSION = 1
# The longest answer span marked, in word pieces.
MAX_SPAN_TOKENS = 30


@dataclass(frozen=True, slots=True)
class Reading:
    # How likely the sentence answers the question (calibrated).
    probability: float
    # The answer's words: character offsets in the sentence, or None.
    span: tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class Policy:
    # Below it, no sentence is likely enough to answer: the answerer declines.
    abstain_below: float
    # From it, the answer is shown without review.
    confident_from: float
    # Further sentences are quoted beside the best one from this probability.
    include_from: float
    # How many of the best-ranked candidates are read (at most MAX_CANDIDATES): the cost of an answer.
    candidates: int = MAX_CANDIDATES
    # Read with the int8 graph: faster, chosen where its figures hold.
    int8: bool = False


@cache
def policy() -> Policy:
    data = json.loads(POLICY_FILE.read_text(encoding="utf-8"))
    return Policy(
        abstain_below=data["abstain_below"],
        confident_from=data["confident_from"],
        include_from=data["include_from"],
        candidates=min(MAX_CANDIDATES, data.get("candidates", MAX_CANDIDATES)),
        int8=data.get("int8", False),
    )


def _delta_digest() -> str:
    return hashlib.sha256(DELTA_FILE.read_bytes()).hexdigest()[:12]


@cache
def version() -> str:
    """The model's version, as receipts and prompt logs name it: changes with the delta."""
    return f"citadel-reader-{_delta_digest()}"


def _metadata() -> dict[str, str]:
    """What the training script stored with the delta: the Platt coefficients, the token budget."""
    from safetensors import safe_open

    with safe_open(DELTA_FILE, framework="numpy") as handle:
        return handle.metadata() or {}


def merged_weights() -> tuple[dict, dict]:
    """The shipped MiniLM weights with the delta merged in (int8 rows scaled back to float32), and
    its config."""
    import numpy as np
    from safetensors.numpy import load_file

    folder = bert_onnx.minilm_folder()
    weights = load_file(folder / "model.safetensors")
    delta = load_file(DELTA_FILE)
    for name, value in delta.items():
        if name.endswith(".scale"):
            continue
        scale = delta.get(f"{name}.scale")
        weights[name] = value.astype(np.float32) * scale[:, None] if scale is not None else value
    return weights, json.loads((folder / "config.json").read_text())


def reader_file(*, quantized: bool = False) -> Path:
    """The reader's ONNX graph under the data dir, built on first use (a few seconds), or its int8
    variant (ONNX Runtime's dynamic quantisation of the merged graph)."""
    weights_file = bert_onnx.minilm_folder() / "model.safetensors"
    stat = weights_file.stat()
    digest = hashlib.sha256(
        f"{MERGE_VERSION}:{bert_onnx.GRAPH_VERSION}:{stat.st_size}:{stat.st_mtime_ns}:{_delta_digest()}".encode()
    ).hexdigest()[:12]
    cache = Path(settings.DATA_DIR) / "models"
    fp32 = cache / f"citadel-reader-{digest}.onnx"
    if not fp32.exists():
        import onnx

        weights, config = merged_weights()
        bert_onnx.write_once(fp32, lambda path: onnx.save(bert_onnx.bert_graph(weights, config), path))
    if not quantized:
        return fp32
    int8 = cache / f"citadel-reader-int8-{digest}.onnx"
    if not int8.exists():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        bert_onnx.write_once(int8, lambda path: quantize_dynamic(fp32, path, weight_type=QuantType.QInt8))
    return int8


class Reader:
    """The reader on ONNX Runtime, one thread per process as the embedder."""

    def __init__(self, *, quantized: bool | None = None) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        metadata = _metadata()
        self._a, self._b = float(metadata["platt_a"]), float(metadata["platt_b"])
        self.version = version()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = max(1, settings.CITADEL["EMBED_THREADS"])
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # The policy says whether the int8 graph reads as well as the float one (bench/fit_reader.py).
        quantized = policy().int8 if quantized is None else quantized
        self._session = onnxruntime.InferenceSession(
            str(reader_file(quantized=quantized)), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = Tokenizer.from_file(str(bert_onnx.minilm_folder() / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=int(metadata.get("max_tokens", 128)), strategy="only_second")
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 (a token, not a password)
        self._lock = threading.Lock()

    def logits(self, question: str, sentences: list[str]):
        """The raw answer logits and span logits, with the encodings (for tests and the export check)."""
        import numpy as np

        encodings = self._tokenizer.encode_batch([(question, s) for s in sentences])
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        with self._lock:
            _, answer, spans = self._session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            )
        return answer[:, 0], spans, encodings

    def read(self, question: str, sentences: list[str]) -> list[Reading]:
        """Each sentence's reading, in one batched call (at most MAX_CANDIDATES sentences)."""
        if not sentences:
            return []
        if len(sentences) > MAX_CANDIDATES:
            raise ValueError(f"The reader reads at most {MAX_CANDIDATES} sentences at once.")
        answer, spans, encodings = self.logits(question, sentences)
        return [
            Reading(probability=self.probability(float(logit)), span=_span(span_logits, encoding))
            for logit, span_logits, encoding in zip(answer, spans, encodings, strict=True)
        ]

    def probability(self, logit: float) -> float:
        z = self._a * logit + self._b
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))


def _span(span_logits, encoding) -> tuple[int, int] | None:
    """The best start and end among the sentence's word pieces (start before end, a short span)."""
    import numpy as np

    pieces = np.array([i for i, sequence in enumerate(encoding.sequence_ids) if sequence == 1])
    if not len(pieces):
        return None
    scores = span_logits[pieces, 0][:, None] + span_logits[pieces, 1][None, :]
    gap = pieces[None, :] - pieces[:, None]
    scores = np.where((gap >= 0) & (gap < MAX_SPAN_TOKENS), scores, -np.inf)
    start, end = np.unravel_index(int(np.argmax(scores)), scores.shape)
    return encoding.offsets[pieces[start]][0], encoding.offsets[pieces[end]][1]


_load_lock = threading.Lock()


def get_reader() -> Reader | None:
    """The reader, loaded once per process; None where CITADEL_READER is off (the tests' default:
    answers then come from similarity alone, as for a deployment that turns the reader off)."""
    if settings.CITADEL["READER"] == "off":
        return None
    with _load_lock:
        return _load()


@cache
def _load() -> Reader:
    return Reader()


def reader_cache_clear() -> None:
    """Forget the loaded reader (tests that switch CITADEL["READER"])."""
    with _load_lock:
        _load.cache_clear()
