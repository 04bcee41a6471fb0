"""The lexical leg: Okapi BM25 over each chunk's tsvector (TEXT_SEARCH_CONFIG), with document frequencies and the
average length from the organization's own statistics (retrieval.models), pruned without changing
the result (MaxScore-style passes bounded by each word's score ceiling)."""

import math
from dataclasses import dataclass

from citadel.documents.lexical import TEXT_SEARCH_CONFIG
from citadel.retrieval.types import LegHit


@dataclass(frozen=True)
class _Term:
    lexeme: str
    df: int
    idf: float
    # The most this lexeme can add to any chunk's score (from LexicalTerm's bounds).
    ceiling: float


def _query_terms(cursor, *, organization_id, query, settings) -> tuple[list[_Term], int, float]:
    """The query's lexemes that the organization's chunks hold, with their IDF and score ceiling,
    the number of chunks and their average length."""
    cursor.execute(
        """
        SELECT corpus.chunk_count, GREATEST(corpus.total_length::float8 / corpus.chunk_count, 1.0),
               t.lexeme, t.df, t.max_tf, t.min_length
          FROM retrieval_lexicalcorpus corpus
          JOIN retrieval_lexicalterm t ON t.organization_id = corpus.organization_id AND t.df > 0
         WHERE corpus.organization_id = %s AND corpus.chunk_count > 0
           AND t.lexeme IN (SELECT lexeme FROM unnest(to_tsvector(%s::regconfig, %s)))
        """,
        [organization_id, TEXT_SEARCH_CONFIG, query],
    )
    rows = cursor.fetchall()
    if not rows:
        return [], 0, 1.0
    chunk_count, avgdl = rows[0][0], rows[0][1]
    k1, b = settings.bm25_k1, settings.bm25_b
    terms = []
    for _, _, lexeme, df, max_tf, min_length in rows:
        idf = math.log(1.0 + (chunk_count - df + 0.5) / (df + 0.5))
        if max_tf and min_length:
            # BM25's term weight grows with tf and shrinks with length: its value at the highest
            # count and the shortest chunk bounds every chunk's.
            ceiling = idf * max_tf * (k1 + 1) / (max_tf + k1 * (1 - b + b * min_length / avgdl))
        else:
            ceiling = idf * (k1 + 1)  # the limit of the term weight as tf grows
        terms.append(_Term(lexeme, df, idf, ceiling))
    return terms, chunk_count, avgdl


def _scores_of(cursor, *, permitted, permitted_params, terms, avgdl, chunk_ids, settings) -> dict[int, float]:
    """The BM25 score of each of `chunk_ids` (permitted ones only) that holds a query word; a
    chunk holding none scores 0 and is left out."""
    if not terms or not chunk_ids:
        return {}
    hits, _ = _bm25_top(
        cursor, permitted=permitted, permitted_params=permitted_params, terms=terms, match=terms,
        at_least_two=False, avgdl=avgdl, n=len(chunk_ids), limit=len(chunk_ids), settings=settings,
        chunk_ids=sorted(chunk_ids),
    )  # fmt: skip
    return {h.chunk_id: h.score for h in hits}


def lexical_search(
    cursor, *, permitted, permitted_params, organization_id, query, n, settings, also_score=()
) -> tuple[list[LegHit], dict[int, float]]:
    """The BM25 top n, and the scores of the chunks `also_score` names (the dense leg's finds,
    for fusion; those holding no query word are left out)."""
    terms, chunk_count, avgdl = _query_terms(cursor, organization_id=organization_id, query=query, settings=settings)
    more = _scores_of(
        cursor, permitted=permitted, permitted_params=permitted_params, terms=terms, avgdl=avgdl,
        chunk_ids=set(also_score), settings=settings,
    )  # fmt: skip
    hits = _top_n(
        cursor, permitted=permitted, permitted_params=permitted_params, terms=terms, chunk_count=chunk_count,
        avgdl=avgdl, n=n, settings=settings,
    )  # fmt: skip
    return hits, more


def _top_n(cursor, *, permitted, permitted_params, terms, chunk_count, avgdl, n, settings) -> list[LegHit]:
    """Okapi BM25 top n over the chunks holding a query word, pruned without changing it: passes
    that score only some of those chunks are kept when the rest provably cannot reach the top n
    (each word's ceiling, what it can add to any chunk at most, comes from LexicalTerm)."""
    if not terms:
        return []
    terms = sorted(terms, key=lambda t: (t.df, t.lexeme))  # rarest first
    # Chunks are matched on the selective terms only (a word found in most chunks would make every
    # chunk a candidate, a scan of the organization); common terms still add to the scores of the
    # chunks matched. A query of common words only matches on its rarest one.
    selective = [
        t
        for t in terms
        if chunk_count <= settings.lexical_exact_below or t.df <= settings.lexical_selective_df * chunk_count
    ]
    match = selective or terms[:1]

    def top(matching: list[_Term], *, at_least_two: bool = False, limit: int | None = None) -> tuple[list, int]:
        return _bm25_top(
            cursor, permitted=permitted, permitted_params=permitted_params, terms=terms, match=matching,
            at_least_two=at_least_two, avgdl=avgdl, n=n, limit=limit or settings.lexical_max_candidates,
            settings=settings,
        )  # fmt: skip

    def beaten(score: float, ceiling: float) -> bool:
        # Strictly, with room for float rounding: a tie at the n-th place is decided by chunk id.
        return score > ceiling * (1 + 1e-9)

    postings = sum(t.df for t in match)
    if 2 <= len(match) <= CONJUNCTIVE_MAX_WORDS and postings >= CONJUNCTIVE_PASS_FROM:
        # First the chunks holding two or more of the matched words: usually few, and the best.
        # Any other chunk holds one matched word at most, so it scores at most the highest ceiling
        # of a matched word plus the ceilings of the unmatched ones.
        hits, scored = top(match, at_least_two=True, limit=CONJUNCTIVE_MAX_CANDIDATES)
        single = max(t.ceiling for t in match) + sum(t.ceiling for t in terms if t not in match)
        if scored < CONJUNCTIVE_MAX_CANDIDATES and len(hits) >= n and beaten(hits[-1].score, single):
            return hits
    # MaxScore: the rarest words first, then only the words that can still lift a chunk.
    rare = [match[0]]
    for term in match[1:]:
        if sum(t.df for t in rare) + term.df > PRUNED_PASS_POSTINGS:
            break
        rare.append(term)
    hits, _ = top(rare)
    if len(rare) == len(match):
        return hits
    # The cheapest words whose ceilings add up to less than the n-th score found cannot lift a
    # chunk holding only them into the top n. The second pass matches the other words.
    threshold = hits[-1].score if len(hits) >= n else 0.0
    non_essential, ceiling = set(), 0.0
    for term in sorted(terms, key=lambda t: t.ceiling):
        ceiling += term.ceiling
        if not beaten(threshold, ceiling):
            break
        non_essential.add(term.lexeme)
    essential = [t for t in match if t.lexeme not in non_essential]
    if {t.lexeme for t in essential} <= {t.lexeme for t in rare}:
        return hits  # every chunk that can reach the top n was scored in the first pass
    return top(essential)[0]


# Postings (chunks per word, summed) the first, pruned pass of the lexical leg may match. On
# bench/ask_load.py's 100,000 chunks, 6,000 lets a question of several rare words finish in one pass
# (26 ms, where 2,000 took two passes and 38 ms) and still keeps a common word out of it.
PRUNED_PASS_POSTINGS = 6_000
# The pass over chunks holding two matched words is tried when the matched words' postings reach
# this (below it, scoring them all is about as cheap), for up to this many words (it matches every
# pair), and it is given up when it finds this many chunks (common words that often meet).
CONJUNCTIVE_PASS_FROM = 1_000
CONJUNCTIVE_MAX_WORDS = 12
CONJUNCTIVE_MAX_CANDIDATES = 2_000


def _tsquery_lexeme(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _bm25_top(
    cursor, *, permitted, permitted_params, terms, match, at_least_two, avgdl, n, limit, settings, chunk_ids=None
) -> tuple[list[LegHit], int]:
    """The n best BM25 scores over all `terms` among the permitted chunks holding a `match` word
    (two of them with `at_least_two`; only `chunk_ids` when given), and how many chunks were
    scored (at most `limit`)."""
    words = [_tsquery_lexeme(t.lexeme) for t in match]
    if at_least_two:
        matching = " | ".join(f"({a} & {b})" for i, a in enumerate(words) for b in words[i + 1 :])
    else:
        matching = " | ".join(words)
    only = "" if chunk_ids is None else " AND c.id = ANY(%s)"
    cursor.execute(
        f"""
        WITH {permitted},
        terms AS (SELECT * FROM unnest(%s::text[], %s::float8[]) AS t(lexeme, idf)),
        candidates AS (
            SELECT c.id, c.search_vector, c.lexeme_count
              FROM documents_chunk c JOIN permitted p ON p.version_id = c.version_id
             WHERE c.search_vector @@ %s::tsquery{only}
             LIMIT %s)
        SELECT c.id,
               sum(t.idf * (tf.v * (%s + 1)) / (tf.v + %s * (1 - %s + %s * c.lexeme_count / %s))) AS score,
               count(*) OVER ()
          FROM candidates c
         -- Only the query's lexemes of each candidate are unnested (marked with weight A, then
         -- filtered): unnesting whole vectors made some 35 rows per candidate for the join to
         -- discard. The join below still keeps query terms only, so weights stored on other
         -- lexemes cannot change a score.
         CROSS JOIN LATERAL unnest(ts_filter(setweight(c.search_vector, 'A', %s::text[]), ARRAY['a']::"char"[])) u
          JOIN terms t ON t.lexeme = u.lexeme
         CROSS JOIN LATERAL (SELECT COALESCE(array_length(u.positions, 1), 1)::float8 AS v) tf
         GROUP BY c.id
         ORDER BY score DESC, c.id
         LIMIT %s
        """,
        [
            *permitted_params,
            [t.lexeme for t in terms],
            [t.idf for t in terms],
            matching,
            *([] if chunk_ids is None else [list(chunk_ids)]),
            limit,
            settings.bm25_k1,
            settings.bm25_k1,
            settings.bm25_b,
            settings.bm25_b,
            avgdl,
            [t.lexeme for t in terms],
            n,
        ],
    )
    rows = cursor.fetchall()
    hits = [LegHit(chunk_id=cid, rank=i, score=float(s)) for i, (cid, s, _) in enumerate(rows, start=1)]
    return hits, rows[0][2] if rows else 0
