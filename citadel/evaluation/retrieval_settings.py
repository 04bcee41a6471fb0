"""The retrieval settings an organization changes through the evaluation gate.

They live in Organization.retrieval_settings (JSON) beside any other knobs operators set there;
the embedding model shown with them is Organization.embedding_model, which names the vectors that
serve. Settings are always handled in normalised form (every key, canonical types), so "a run on
exactly these settings" is a plain equality test.
"""

from dataclasses import dataclass

from citadel.accounts.models import Organization
from citadel.core.errors import InvalidInput
from citadel.ingestion.chunking import DEFAULT_CHUNK_TOKENS, DEFAULT_OVERLAP_TOKENS
from citadel.retrieval.settings import RetrievalSettings


@dataclass(frozen=True, slots=True)
class Knob:
    key: str
    label: str
    kind: type
    low: float
    high: float
    help: str


KNOBS = [
    Knob("k", "Passages per question (k)", int, 1, 50, "How many passages an evaluation run judges."),
    Knob("dense_weight", "Dense (vector) weight", float, 0.0, 10.0, "Weight of the vector leg in fusion."),
    Knob("lexical_weight", "Lexical (BM25) weight", float, 0.0, 10.0, "Weight of the keyword leg in fusion."),
    Knob("chunk_tokens", "Chunk size (tokens)", int, 32, 512, "Used when documents are ingested."),
    Knob("chunk_overlap_tokens", "Chunk overlap (tokens)", int, 0, 128, "Used when documents are ingested."),
]
KNOB_KEYS = [knob.key for knob in KNOBS] + ["embedding_model"]
# What a run can measure on the live index: retrieve() takes these per call. Chunking and the
# embedding model shape the index itself, so a proposal cannot change them (the embedding model
# moves through ingestion's re-embedding, which builds the new vectors beside the old ones).
QUERY_TIME_KEYS = ("k", "dense_weight", "lexical_weight")
INDEX_TIME_KEYS = ("chunk_tokens", "chunk_overlap_tokens", "embedding_model")
LABELS = {knob.key: knob.label for knob in KNOBS} | {"embedding_model": "Embedding model"}


def default_retrieval_settings(organization: Organization) -> dict:
    base = RetrievalSettings()
    return {
        "k": 10,
        "dense_weight": float(base.dense_weight),
        "lexical_weight": float(base.lexical_weight),
        "chunk_tokens": DEFAULT_CHUNK_TOKENS,
        "chunk_overlap_tokens": DEFAULT_OVERLAP_TOKENS,
        "embedding_model": organization.embedding_model,
    }


def _number(knob: Knob, value):
    if isinstance(value, bool):
        raise InvalidInput(f"{knob.label} must be a number.")
    try:
        number = knob.kind(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{knob.label} must be a {'whole ' if knob.kind is int else ''}number.") from None
    if knob.kind is int and float(value) != number:
        raise InvalidInput(f"{knob.label} must be a whole number.")
    if not knob.low <= number <= knob.high:
        raise InvalidInput(f"{knob.label} must be between {knob.low:g} and {knob.high:g}.")
    return round(number, 4) if knob.kind is float else number


def normalise_retrieval_settings(data: dict) -> dict:
    """Every knob checked and in canonical form; InvalidInput names the first bad one."""
    if not isinstance(data, dict):
        raise InvalidInput("Retrieval settings must be an object.")
    missing = [key for key in KNOB_KEYS if key not in data]
    if missing:
        raise InvalidInput(f"Missing retrieval settings: {', '.join(missing)}.")
    out = {knob.key: _number(knob, data[knob.key]) for knob in KNOBS}
    if out["dense_weight"] == 0 and out["lexical_weight"] == 0:
        raise InvalidInput("At least one of the dense and lexical weights must be above zero.")
    if out["chunk_overlap_tokens"] * 2 > out["chunk_tokens"]:
        raise InvalidInput("The chunk overlap may be at most half the chunk size.")
    model = data["embedding_model"]
    if not isinstance(model, str) or not model.strip() or len(model.strip()) > 200:
        raise InvalidInput("Name an embedding model (at most 200 characters).")
    out["embedding_model"] = model.strip()
    return out


def organization_retrieval_settings(organization: Organization) -> dict:
    """The organization's current settings, normalised; a stored value that no longer passes the
    checks reads as its default (retrieval does the same)."""
    settings = default_retrieval_settings(organization)
    stored = organization.retrieval_settings or {}
    for key in KNOB_KEYS:
        if key not in stored or key == "embedding_model":
            continue
        try:
            candidate = normalise_retrieval_settings({**settings, key: stored[key]})
        except InvalidInput:
            continue
        settings = candidate
    return settings


def proposed_retrieval_settings(organization: Organization, data: dict) -> dict:
    """`data` over the organization's current settings, normalised. InvalidInput when it changes
    a setting that shapes the index, which no run on the live index could measure."""
    if not isinstance(data, dict):
        raise InvalidInput("Retrieval settings must be an object.")
    current = organization_retrieval_settings(organization)
    proposed = normalise_retrieval_settings({**current, **data})
    changed = [LABELS[key] for key in INDEX_TIME_KEYS if proposed[key] != current[key]]
    if changed:
        raise InvalidInput(
            f"{', '.join(changed)} cannot be measured on the live index, so the gate cannot change "
            "them: chunking applies when documents are ingested, and the embedding model changes "
            "through re-embedding."
        )
    return proposed
