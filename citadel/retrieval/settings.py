"""The knobs of retrieval, with the measurements behind each default. An organization may override
any of them in `retrieval_settings` (JSON); the evaluation gate measures a change first."""

from dataclasses import dataclass, replace

from citadel.accounts.models import Organization
from citadel.core.errors import InvalidInput


@dataclass(frozen=True)
class RetrievalSettings:
    """Knobs; an organization may override any of them in `retrieval_settings` (JSON)."""

    # The legs' weights in score fusion (retrieval.services._fuse): a dense share of 0.6. Held out
    # in turn, each of the demo set, Cranfield and SQuAD's two articles got 0.6 from the other
    # three, scoring 0.996, 0.430, 0.923 and 0.916 nDCG@10 there (equal weights: 0.996, 0.432,
    # 0.920, 0.908). bench/retrieval_quality.py --beir ../shared/datasets/cranfield
    # --squad ../shared/datasets/squad2-dev-rhine-complexity.json --cross-validate
    dense_weight: float = 1.5
    lexical_weight: float = 1.0
    # Candidates each leg contributes to fusion (at least k); the other leg scores them too. With
    # 20, the first 10 passages fell below the lexical leg alone on SQuAD's Rhine (nDCG@10 0.901
    # against 0.909); 50 keeps them above both legs everywhere ("fused, first 10 passages" in
    # bench/retrieval_quality.py). What 50 costs a filtered graph search: bench/retrieval_filtered.py.
    candidates: int = 50
    # At or below this many permitted chunks the dense leg scans them all instead of the graph
    # (bench/retrieval_filtered.py: an exact scan of 20k chunks costs about what a filtered graph
    # search costs, and is never wrong).
    exact_threshold: int = 20_000
    # The graph search: candidate list size, and how far an iterative scan may go to fill k under
    # a restrictive filter before it gives up. 400: recall@10 0.988 over a million chunks where
    # 200 gave 0.972 (bench/retrieval_filtered.py, 100% readable).
    ef_search: int = 400
    max_scan_tuples: int = 40_000
    # A graph walk under a filter misses neighbours in documents it never reaches
    # (bench/retrieval_filtered.py: recall@10 0.95 when 10% of a million chunks are readable).
    # When the filter passes less than `route_below` of the graph, the dense leg also scans
    # exactly the chunks of the permitted documents whose centroids lie nearest the query, up to
    # `route_chunks` chunks, and keeps the better of both for each chunk. 0 turns it off.
    route_below: float = 0.5
    route_chunks: int = 3_000
    # Okapi BM25 over chunks. k1 1.5 (bm25s's default) gains 0.005 nDCG@10 on Cranfield and loses
    # 0.009 on the demo set; held out in turn, the other collections choose 1.2 every time
    # (bench/retrieval_quality.py). b 0.5 to 1.0 did no better anywhere.
    bm25_k1: float = 1.2
    bm25_b: float = 0.75
    # Up to this many chunks in the organization, every chunk sharing a query word is scored (exact
    # BM25). Above it, chunks are matched on the query's selective words (found in at most this
    # share of the chunks) and at most `lexical_max_candidates` are scored: a question made of
    # common words no longer costs a scan of the whole organization.
    lexical_exact_below: int = 20_000
    lexical_selective_df: float = 0.05
    lexical_max_candidates: int = 20_000

    @classmethod
    def from_dict(cls, values: dict) -> "RetrievalSettings":
        """Known keys of `values` over the defaults; other keys (chunking, ...) are ignored."""
        defaults = cls()
        known = {}
        for name in cls.__dataclass_fields__:
            if name in values:
                kind = type(getattr(defaults, name))
                try:
                    known[name] = kind(values[name])
                except (TypeError, ValueError):
                    raise InvalidInput(f"Retrieval setting {name} must be a {kind.__name__}.") from None
                if known[name] < 0:
                    raise InvalidInput(f"Retrieval setting {name} must not be negative.")
        return replace(defaults, **known)

    @classmethod
    def for_organization(cls, organization: Organization, overrides: dict | None = None) -> "RetrievalSettings":
        stored = organization.retrieval_settings if isinstance(organization.retrieval_settings, dict) else {}
        try:
            base = cls.from_dict(stored)
        except InvalidInput:
            base = cls()  # a broken stored value must not take search down
        if not overrides:
            return base
        if not isinstance(overrides, dict):
            raise InvalidInput("Retrieval settings must be an object.")
        return cls.from_dict({**{f: getattr(base, f) for f in cls.__dataclass_fields__}, **overrides})
