"""Generation providers behind one small Protocol.

* `extractive` (default): no model. Quotes the source sentences that best answer the question.
* `openai`: any OpenAI-compatible chat endpoint (OpenAI, Ollama, vLLM, llama.cpp server) through
  the `openai` SDK; OPENAI_BASE_URL, OPENAI_API_KEY, OPENAI_MODEL from the environment.
* `anthropic`: the `anthropic` SDK; ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL, ANTHROPIC_MODEL.

An organization picks one with `generation_provider` / `generation_model`; citadel.reading.registry
builds it. This module holds what the adapters share and imports none of them. Keys never live in the
database. Model providers are wrapped in `citadel.providers.resilience` (timeouts, retries with
jitter on 429/5xx, a circuit breaker shared through the cache); when one is unavailable it raises
ProviderUnavailable and the answer service falls back to quoting the sources with a notice.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from django.conf import settings

EXTRACTIVE = "extractive"
OPENAI = "openai"
ANTHROPIC = "anthropic"
PROVIDERS = (EXTRACTIVE, OPENAI, ANTHROPIC)

# What a model answers when the sources do not hold the answer (the prompt asks for it).
ABSTAIN_TOKEN = "INSUFFICIENT_EVIDENCE"  # noqa: S105 - not a secret


class ProviderError(Exception):
    """The provider answered, but not usefully (malformed output, refused request)."""

    error_class = "provider_error"


class ProviderUnavailable(ProviderError):
    """Down, timing out, rate limited past our retries, or the circuit breaker is open."""

    error_class = "provider_unavailable"


@dataclass(frozen=True, slots=True)
class SourcePassage:
    """A retrieved passage as a generator sees it: numbered, with its text and how it ranked."""

    n: int
    text: str
    title: str
    score: float
    relative_score: float  # score / best score of this retrieval, 0..1
    suspicious: bool = False
    section: str = ""
    page: int | None = None
    # Cosine similarity of the passage to the question under the organization's embedder, when
    # the dense leg ranked it; it feeds the evidence score where that embedder is calibrated.
    dense_score: float | None = None


@dataclass(slots=True)
class Generation:
    text: str
    model: str
    tokens_in: int = 0
    tokens_out: int = 0
    abstained: bool = False
    prompt_text: str = ""
    # How likely the sources answer the question (0..1; citadel.reading.extractive's support),
    # and the signals behind it, for the receipt.
    support: float | None = None
    signals: dict = field(default_factory=dict)
    # Whether the support is high enough to show the answer without a "low_scores" flag.
    confident: bool = False
    # Parts of the question that a model says its sources do not answer (its structured reply);
    # None when it gave no such reply.
    uncovered: list[str] | None = None
    attempts: int = 1
    details: dict = field(default_factory=dict)


class GenerationProvider(Protocol):
    name: str
    model: str
    streams: bool

    def generate(self, *, question: str, passages: list[SourcePassage]) -> Generation: ...

    def stream(self, *, question: str, passages: list[SourcePassage]) -> Iterator[str | Generation]:
        """Yield text deltas, then one final Generation (its text is the whole answer)."""
        ...


def price_for(model: str) -> dict | None:
    """USD per million input/output tokens from CITADEL["PRICES"], or None when unknown."""
    return settings.CITADEL.get("PRICES", {}).get(model)


def cost_usd(*, model: str, tokens_in: int, tokens_out: int) -> Decimal:
    price = price_for(model)
    if not price:
        return Decimal(0)
    total = Decimal(str(price.get("input", 0))) * tokens_in + Decimal(str(price.get("output", 0))) * tokens_out
    return (total / Decimal(1_000_000)).quantize(Decimal("0.000001"))
