"""Pseudo-relevance feedback, measured before it is built: would expanding a question with what its
first results say lift fused retrieval on collections it was not fitted to?

    CITADEL_DATA_DIR=/work/var-<you> .venv/bin/python bench/retrieval_feedback.py \
        [--beir ../shared/datasets/cranfield ...] [--squad ../shared/datasets/squad2-dev-rhine-complexity.json]

Collections as in bench/retrieval_quality.py (same organizations: run that first, or this ingests
them). For every question, Citadel's own search (k = 100) gives the pool of candidates both legs
scored and their fused order. Feedback then re-ranks that pool, and nothing outside it:

* dense feedback (Rocchio): the question's vector plus `beta` times the mean vector of the first
  `m` fused passages, normalised; every pooled passage is scored again by cosine to it;
* lexical feedback (RM3): the question's lexemes, weighted `lambda`, plus the `terms` most
  frequent lexemes of the first `m` fused passages, weighted 1 - `lambda` by their frequency;
  every pooled passage is scored again by BM25 (the organization's statistics, k1 1.2, b 0.75);
* both legs' new scores fused as `retrieve` fuses (z-scores over the pool, the default weights).

It prints nDCG@10 per collection for each configuration, then a leave-one-collection-out choice:
the configuration the other collections prefer, reported on the one held out beside no feedback.
"""

import argparse
import json
import math
import os
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.db import connection  # noqa: E402
from retrieval_quality import DEEP, K, beir_collection, demo_collection, ingested, squad_collections  # noqa: E402

from citadel.accounts.models import Organization  # noqa: E402
from citadel.documents.lexical import TEXT_SEARCH_CONFIG  # noqa: E402
from citadel.evaluation.metrics import mean, ndcg_at_k, unique_in_order  # noqa: E402
from citadel.evaluation.retrieval_judge import retrieval_query  # noqa: E402
from citadel.providers.embeddings import get_embedder  # noqa: E402
from citadel.retrieval.services import search  # noqa: E402
from citadel.retrieval.settings import RetrievalSettings  # noqa: E402

# (dense m, beta, lexical m, terms, lambda); 0 turns a leg's feedback off.
CONFIGURATIONS = [
    (0, 0.0, 0, 0, 0.0),
    (3, 0.6, 0, 0, 0.0),
    (5, 1.0, 0, 0, 0.0),
    (0, 0.0, 5, 10, 0.7),
    (0, 0.0, 5, 20, 0.5),
    (3, 0.6, 5, 10, 0.7),
    (5, 1.0, 5, 10, 0.5),
]


def pool_of(principal, text):
    """Citadel's fused search, and the vectors and lexemes of every pooled passage."""
    result = search(principal=principal, query=retrieval_query(text), k=DEEP)
    ids = [h.chunk_id for h in result.hits]
    with connection.cursor() as cur:
        cur.execute(
            "SELECT e.chunk_id, e.embedding::text FROM documents_chunkembedding e WHERE e.chunk_id = ANY(%s)", [ids]
        )
        vectors = {cid: np.array(json.loads(v), dtype=np.float64) for cid, v in cur.fetchall()}
        cur.execute(
            "SELECT c.id, c.lexeme_count, u.lexeme, COALESCE(array_length(u.positions, 1), 1)"
            " FROM documents_chunk c CROSS JOIN LATERAL unnest(c.search_vector) u WHERE c.id = ANY(%s)",
            [ids],
        )
        lexemes: dict[int, Counter] = {cid: Counter() for cid in ids}
        lengths = {}
        for cid, length, lexeme, tf in cur.fetchall():
            lexemes[cid][lexeme] = tf
            lengths[cid] = length
        cur.execute("SELECT lexeme FROM unnest(to_tsvector(%s::regconfig, %s))", [TEXT_SEARCH_CONFIG, text])
        query_lexemes = [r[0] for r in cur.fetchall()]
    return result.hits, vectors, lexemes, lengths, query_lexemes


def statistics_of(organization_id):
    with connection.cursor() as cur:
        cur.execute(
            "SELECT chunk_count, GREATEST(total_length::float8 / chunk_count, 1) FROM retrieval_lexicalcorpus"
            " WHERE organization_id = %s",
            [organization_id],
        )
        n, avgdl = cur.fetchone()
        cur.execute("SELECT lexeme, df FROM retrieval_lexicalterm WHERE organization_id = %s", [organization_id])
        df = dict(cur.fetchall())
    return n, avgdl, df


def zscores(values: np.ndarray) -> np.ndarray:
    return (values - values.mean()) / (values.std() or 1.0)


def rerank(pool, query_vector, stats, configuration, weights):
    hits, vectors, lexemes, lengths, query_lexemes = pool
    dense_m, beta, lexical_m, n_terms, lam = configuration
    n, avgdl, df = stats
    ids = [h.chunk_id for h in hits if h.chunk_id in vectors]
    dense = np.array([float(vectors[c] @ query_vector) for c in ids])
    if dense_m:
        expanded = query_vector + beta * np.mean([vectors[c] for c in ids[:dense_m]], axis=0)
        dense = np.array([float(vectors[c] @ expanded) for c in ids]) / np.linalg.norm(expanded)
    terms = {t: 1.0 / max(len(set(query_lexemes)), 1) for t in set(query_lexemes)}
    if lexical_m:
        feedback = Counter()
        for c in ids[:lexical_m]:
            total = sum(lexemes[c].values()) or 1
            feedback.update({t: tf / total for t, tf in lexemes[c].items()})
        top = feedback.most_common(n_terms)
        norm = sum(w for _, w in top) or 1.0
        terms = {t: lam * w for t, w in terms.items()}
        for t, w in top:
            terms[t] = terms.get(t, 0.0) + (1 - lam) * w / norm

    def bm25(c):
        score = 0.0
        for t, w in terms.items():
            tf = lexemes[c].get(t)
            if tf and t in df:
                idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
                score += w * idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * lengths[c] / avgdl))
        return score

    lexical = np.array([bm25(c) for c in ids])
    fused = weights[0] * zscores(dense) + weights[1] * zscores(lexical)
    order = np.argsort(-fused, kind="stable")
    by_id = {h.chunk_id: h for h in hits}
    return unique_in_order(by_id[ids[i]].external_id for i in order)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--beir", action="append", type=Path, default=[])
    parser.add_argument("--squad", action="append", type=Path, default=[])
    args = parser.parse_args()
    collections = [demo_collection(), *map(beir_collection, args.beir)]
    for path in args.squad:
        collections.extend(squad_collections(path))
    defaults = RetrievalSettings()
    total = defaults.dense_weight + defaults.lexical_weight
    weights = (defaults.dense_weight / total, defaults.lexical_weight / total)
    table = {}
    for collection in collections:
        principal = ingested(collection, reuse=True)
        organization = Organization.objects.get(pk=principal.organization_id)
        stats = statistics_of(organization.pk)
        embedder = get_embedder(organization.embedding_model)
        pools = [pool_of(principal, text) for _, text in collection.queries]
        vectors = embedder.embed([retrieval_query(text) for _, text in collection.queries])
        for configuration in CONFIGURATIONS:
            table[configuration, collection.name] = mean(
                ndcg_at_k(rerank(pool, np.array(vector), stats, configuration, weights), collection.relevant[qid], K)
                for pool, vector, (qid, _) in zip(pools, vectors, collection.queries, strict=True)
            )
    names = [c.name for c in collections]
    print("nDCG@10 of fused, the pool re-ranked with feedback (dense m, beta | lexical m, terms, lambda)")
    print(f"{'configuration':<28}" + "".join(f"{n[:18]:>20}" for n in names))
    for configuration in CONFIGURATIONS:
        label = "none" if configuration == CONFIGURATIONS[0] else str(configuration)
        print(f"{label:<28}" + "".join(f"{table[configuration, n]:>20.3f}" for n in names))
    for held in names:
        chosen = max(CONFIGURATIONS, key=lambda c: mean(table[c, n] for n in names if n != held))
        print(
            f"held out {held}: the others choose {chosen}, which scores {table[chosen, held]:.3f} "
            f"(no feedback {table[CONFIGURATIONS[0], held]:.3f})"
        )


if __name__ == "__main__":
    main()
