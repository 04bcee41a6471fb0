import math
import random

import pytest
from django.contrib.postgres.search import SearchVector
from django.db import connection
from django.db.models import Value
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from citadel.core.errors import InvalidInput, PermissionDenied
from citadel.documents.access import readable_chunks
from citadel.documents.lexical import TEXT_SEARCH_CONFIG
from citadel.documents.models import AccessGrant, Chunk, Document
from citadel.retrieval.models import LexicalCorpus, LexicalTerm
from citadel.retrieval.services import _fuse, retrieve, search
from citadel.retrieval.settings import RetrievalSettings
from citadel.retrieval.types import LegHit
from tests.factories import make_document, make_version

QUERY = "how fast are refunds paid"


def external_ids(hits):
    return {h.external_id for h in hits}


def test_no_principal_is_an_error(acme):
    with pytest.raises(PermissionDenied):
        retrieve(principal=None, query=QUERY)
    with pytest.raises(PermissionDenied):
        retrieve(principal={"user_id": 1, "organization_id": 1}, query=QUERY)


def test_each_principal_gets_only_what_access_rules_allow(world, acme):
    ann = world.principal("ann", "acme", teams=["Finance"])
    bob = world.principal("bob", "acme")
    gus = world.principal("gus", "globex")

    assert external_ids(retrieve(principal=ann, query=QUERY)) == {"handbook", "payroll", "memo"}
    assert external_ids(retrieve(principal=bob, query=QUERY)) == {"handbook"}
    assert external_ids(retrieve(principal=gus, query=QUERY)) == {"globex-refunds"}


def test_admins_read_content_under_the_same_grants(world, acme):
    ada = world.principal("ada", "acme", role="admin")

    assert external_ids(retrieve(principal=ada, query=QUERY)) == {"handbook"}


def test_revoking_a_grant_takes_effect_on_the_next_query(world, acme):
    ann = world.principal("ann", "acme", teams=["Finance"])
    assert "payroll" in external_ids(retrieve(principal=ann, query=QUERY))

    AccessGrant.objects.filter(document=acme["payroll"]).delete()

    assert "payroll" not in external_ids(retrieve(principal=ann, query=QUERY))


def test_granting_takes_effect_on_the_next_query(world, acme):
    bob = world.principal("bob", "acme")
    AccessGrant.objects.create(document=acme["draft"], scope="organization")

    assert "draft" in external_ids(retrieve(principal=bob, query=QUERY))


def test_archived_documents_are_never_returned(world, acme):
    bob = world.principal("bob", "acme")
    Document.objects.filter(pk=acme["handbook"].pk).update(archived_at=timezone.now())

    assert retrieve(principal=bob, query=QUERY) == []


def test_superseded_versions_are_never_returned(world, acme):
    bob = world.principal("bob", "acme")
    make_version(acme["handbook"], ["Refunds are now paid within three days."])

    hits = retrieve(principal=bob, query=QUERY, k=20)

    assert [h.text for h in hits] == ["Refunds are now paid within three days."]
    assert {h.version for h in hits} == {2}


def test_hits_carry_both_legs_and_are_ordered_by_fused_score(world, acme):
    ann = world.principal("ann", "acme", teams=["Finance"])

    hits = retrieve(principal=ann, query=QUERY, k=10)

    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    top = hits[0]
    assert top.external_id == "handbook" and top.text.startswith("Refunds are paid")
    assert top.dense_rank is not None and top.lexical_rank is not None
    assert top.dense_score is not None and top.lexical_score > 0
    assert top.page == 1 and top.version == 1 and top.title == "Handbook"
    assert all(h.lexical_rank is None for h in hits if "refund" not in h.text.lower())


def test_filters_narrow_but_never_widen(world, acme):
    bob = world.principal("bob", "acme")
    everything = [acme[name].pk for name in ("handbook", "payroll", "memo", "draft", "globex")]

    assert external_ids(retrieve(principal=bob, query=QUERY, filters={"document_ids": everything})) == {"handbook"}
    assert retrieve(principal=bob, query=QUERY, filters={"external_ids": ["payroll", "globex-refunds"]}) == []
    assert external_ids(retrieve(principal=bob, query=QUERY, filters={"title": "hand"})) == {"handbook"}


def test_a_team_filter_narrows_to_the_teams_documents(world, acme):
    """Given Ann in Finance, when she searches within team Finance, then only the document granted
    to Finance is found, not the whole-organization handbook or her own memo."""
    ann = world.principal("ann", "acme", teams=["Finance"])

    assert external_ids(retrieve(principal=ann, query=QUERY, filters={"team": "Finance"})) == {"payroll"}


def test_a_team_filter_never_widens_what_the_asker_may_read(world, acme):
    """Given Bob outside Finance, when he searches within team Finance or a team no one has, then
    he finds nothing, exactly as for a team that does not exist; and a Globex member naming
    Acme's team finds nothing either."""
    bob = world.principal("bob", "acme")
    gus = world.principal("gus", "globex")

    assert retrieve(principal=bob, query=QUERY, filters={"team": "Finance"}) == []
    assert retrieve(principal=bob, query=QUERY, filters={"team": "No such team"}) == []
    assert retrieve(principal=gus, query=QUERY, filters={"team": "Finance"}) == []


def test_a_team_filter_keeps_a_document_also_granted_to_the_asker_otherwise(world, acme):
    """Given the payroll note granted to Finance and to the whole organization, when Bob (not in
    Finance) searches within Finance, then he finds it: he may read it anyway, and no more."""
    bob = world.principal("bob", "acme")
    AccessGrant.objects.create(document=acme["payroll"], scope="organization")

    assert external_ids(retrieve(principal=bob, query=QUERY, filters={"team": "Finance"})) == {"payroll"}


def test_a_team_filter_combines_with_other_filters_as_an_intersection(world, acme):
    ann = world.principal("ann", "acme", teams=["Finance"])

    within = {"team": "Finance", "document_ids": [acme["handbook"].pk, acme["memo"].pk]}
    assert retrieve(principal=ann, query=QUERY, filters=within) == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"filters": {"team": ""}},
        {"filters": {"team": ["Finance"]}},
        {"filters": {"team": "x" * 101}},
        {"filters": {"team": "Fin\x00ance"}},
        {"k": 0},
        {"k": 101},
        {"k": "ten"},
        {"filters": {"organization_id": 1}},
        {"filters": {"document_ids": ["x"]}},
        {"query": "x" * 2001},
        {"settings": {"dense_weight": "soon"}},
    ],
)
def test_bad_input_is_a_clear_error(world, acme, kwargs):
    bob = world.principal("bob", "acme")
    with pytest.raises(InvalidInput):
        retrieve(principal=bob, **({"query": QUERY} | kwargs))


def test_an_empty_query_finds_nothing(world, acme):
    assert retrieve(principal=world.principal("bob", "acme"), query="   ") == []


@pytest.mark.parametrize(("route_chunks", "mode"), [(0, "hnsw"), (3000, "hnsw+documents")])
def test_dense_leg_returns_k_under_a_restrictive_filter_through_the_graph(world, route_chunks, mode):
    # Given 400 passages of which the member may read 12, and a planner forced onto HNSW (with
    # the nearest documents scanned beside the walk, or not). The plan reads the filter's
    # selectivity from the index's catalogue row, which autovacuum rewrites when other tests
    # commit vectors, so route_below forces the routing choice instead of relying on it.
    org = world.org("acme")
    org.retrieval_settings = {"exact_threshold": 0, "route_chunks": route_chunks, "route_below": 2.0}
    org.save()
    team_member = world.principal("tess", org, teams=["Legal"])
    legal = org.teams.get(name="Legal")
    for i in range(20):
        make_document(org, f"public-{i}", [f"warehouse shipping note {i} {j} pallets" for j in range(20)], grants=[])
    make_document(org, "legal", [f"contract clause {j} about shipping pallets" for j in range(12)], grants=[legal])

    # When the member searches with k=10
    result = search(principal=team_member, query="shipping pallets", k=10)

    # Then the graph still yields ten permitted passages, the same ten an exact scan finds
    assert result.plan["dense_mode"] == mode
    assert len(result.dense) == 10 and external_ids(result.dense) == {"legal"}
    org.retrieval_settings = {}
    org.save()
    exact = search(principal=team_member, query="shipping pallets", k=10)
    assert exact.plan["dense_mode"] == "exact"
    assert [h.chunk_id for h in result.dense] == [h.chunk_id for h in exact.dense]


def test_results_are_a_subset_of_readable_chunks(world, acme):
    for username, teams in (("ann", ["Finance"]), ("bob", []), ("ada", [])):
        principal = world.principal(username, "acme", role="admin" if username == "ada" else "member", teams=teams)
        readable = set(readable_chunks(principal).values_list("pk", flat=True))
        assert {h.chunk_id for h in retrieve(principal=principal, query=QUERY, k=50)} <= readable


# --- BM25 statistics ------------------------------------------------------------------------------


def recomputed_statistics():
    """The statistics computed from scratch over live chunks: what the triggers must maintain."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.organization_id, l.lexeme, count(*)
              FROM documents_chunk c
              JOIN documents_document d ON d.current_version_id = c.version_id AND d.archived_at IS NULL
             CROSS JOIN LATERAL unnest(tsvector_to_array(c.search_vector)) l(lexeme)
             GROUP BY 1, 2
            """
        )
        terms = {(org, lexeme): df for org, lexeme, df in cursor.fetchall()}
        cursor.execute(
            """
            SELECT c.organization_id, count(*), sum(c.lexeme_count)
              FROM documents_chunk c
              JOIN documents_document d ON d.current_version_id = c.version_id AND d.archived_at IS NULL
             GROUP BY 1
            """
        )
        corpus = {org: (n, total) for org, n, total in cursor.fetchall()}
    return corpus, terms


def maintained_statistics():
    corpus = {c.organization_id: (c.chunk_count, c.total_length) for c in LexicalCorpus.objects.all() if c.chunk_count}
    terms = {(t.organization_id, t.lexeme): t.df for t in LexicalTerm.objects.filter(df__gt=0)}
    return corpus, terms


def unbounded_occurrences() -> list:
    """Live chunks where a lexeme occurs more often than its max_tf, or in a chunk shorter than
    its min_length: the bounds the lexical leg prunes with must hold for every live chunk."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.id, l.lexeme
              FROM documents_chunk c
              JOIN documents_document d ON d.current_version_id = c.version_id AND d.archived_at IS NULL
             CROSS JOIN LATERAL unnest(c.search_vector) l
              LEFT JOIN retrieval_lexicalterm t ON t.organization_id = c.organization_id AND t.lexeme = l.lexeme
             WHERE t.max_tf IS NULL OR t.min_length IS NULL
                OR COALESCE(array_length(l.positions, 1), 1) > t.max_tf OR c.lexeme_count < t.min_length
            """
        )
        return cursor.fetchall()


def test_new_chunks_go_straight_into_the_lexical_index(world, acme):
    """Given chunks just written, when the lexical index is read, then it holds no pending list
    of them: every search would scan such a list until a vacuum merged it (16 ms instead of 2 on
    bench/ask_load.py's 100,000 chunks during a bulk upload)."""
    make_document(world.org("acme"), "fresh", ["A passage written just now about refunds."])

    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'chunk_search_vector_gin'")
        assert cursor.fetchone()[0] == ["fastupdate=off"]
        cursor.execute("SELECT gin_clean_pending_list('chunk_search_vector_gin')")
        assert cursor.fetchone()[0] == 0  # pages that were pending: none


def test_statistics_follow_every_change_of_what_is_live(world, acme):
    def check():
        assert maintained_statistics() == recomputed_statistics()
        assert unbounded_occurrences() == []

    check()

    make_version(acme["handbook"], ["Refunds are now paid within three days.", "New text", "More"])
    check()

    Document.objects.filter(pk=acme["payroll"].pk).update(archived_at=timezone.now())
    check()

    Document.objects.filter(pk=acme["payroll"].pk).update(archived_at=None)
    check()

    acme["memo"].delete()
    check()

    Chunk.objects.filter(document=acme["handbook"]).update(lexeme_count=3)
    check()

    # An update that changes no document frequency still widens the bounds.
    Chunk.objects.filter(document=acme["handbook"]).update(
        search_vector=SearchVector(Value("refunds refunds refunds refunds"), config=TEXT_SEARCH_CONFIG)
    )
    check()

    world.org("globex").delete()
    check()
    assert not LexicalTerm.objects.filter(organization_id=acme["globex"].organization_id).exists()


def test_one_organizations_documents_never_change_anothers_scores(world, acme):
    bob = world.principal("bob", "acme")
    before = [(h.chunk_id, h.lexical_score) for h in search(principal=bob, query=QUERY).lexical]

    globex = world.org("globex")
    for i in range(5):
        make_document(globex, f"more-{i}", ["refunds refunds refunds paid", "unrelated words about paid leave"])

    after = [(h.chunk_id, h.lexical_score) for h in search(principal=bob, query=QUERY).lexical]
    assert before and after == before


def test_bm25_prefers_rare_terms_and_shorter_passages(world):
    org = world.org("acme")
    bob = world.principal("bob", org)
    for i in range(6):
        make_document(org, f"common-{i}", [f"policy document number {i}"])
    make_document(org, "rare", ["escalation policy"])
    make_document(org, "long", ["escalation " + "filler words that dilute the passage " * 10])

    lexical = search(principal=bob, query="escalation policy").lexical

    assert [h.external_id for h in lexical][:2] == ["rare", "long"]


def test_lexical_scores_are_okapi_bm25_of_the_query_terms_even_over_weighted_vectors(world):
    """Given chunks where a query word repeats (tf 3) and one whose stored vector carries weights,
    when searching, then each lexical score is exactly BM25 over the query's own terms."""
    org = world.org("acme")
    bob = world.principal("bob", org)
    make_document(org, "triple", ["escalation escalation escalation path for refunds"])
    make_document(org, "single", ["escalation of refunds and the other words around it"])
    make_document(org, "other", ["parking permits and badges"])
    weighted = make_document(org, "weighted", ["refunds escalation matrix"])
    # Stored weights (A on every lexeme, query words or not) must change nothing.
    Chunk.objects.filter(document=weighted).update(
        search_vector=SearchVector("text", config=TEXT_SEARCH_CONFIG, weight="A")
    )

    lexical = {h.external_id: h.lexical_score for h in search(principal=bob, query="refunds escalation").lexical}

    corpus = LexicalCorpus.objects.get(organization=org)
    avgdl = max(corpus.total_length / corpus.chunk_count, 1.0)
    df = dict(LexicalTerm.objects.filter(organization=org, lexeme__in=["refund", "escal"]).values_list("lexeme", "df"))

    def bm25(tfs: dict, length: int) -> float:
        total = 0.0
        for lexeme, tf in tfs.items():
            idf = math.log(1.0 + (corpus.chunk_count - df[lexeme] + 0.5) / (df[lexeme] + 0.5))
            total += idf * (tf * 2.2) / (tf + 1.2 * (1 - 0.75 + 0.75 * length / avgdl))
        return total

    lengths = dict(Chunk.objects.filter(organization=org).values_list("document__external_id", "lexeme_count"))
    assert set(lexical) == {"triple", "single", "weighted"}
    assert lexical["triple"] == pytest.approx(bm25({"escal": 3, "refund": 1}, lengths["triple"]))
    assert lexical["single"] == pytest.approx(bm25({"escal": 1, "refund": 1}, lengths["single"]))
    assert lexical["weighted"] == pytest.approx(bm25({"escal": 1, "refund": 1}, lengths["weighted"]))


def _unpruned(monkeypatch) -> None:
    monkeypatch.setattr("citadel.retrieval.lexical.PRUNED_PASS_POSTINGS", 10**9)
    monkeypatch.setattr("citadel.retrieval.lexical.CONJUNCTIVE_PASS_FROM", 10**9)


def _pruned_and_full(monkeypatch, principal, query: str, prune: dict, k: int = 5) -> tuple[list, list, list[str]]:
    """The lexical top k with the pruning constants `prune`, the unpruned top k, and the SQL of
    the pruned run's scoring passes."""
    settings = {"candidates": k, "dense_weight": 0.0}
    for name, value in prune.items():
        monkeypatch.setattr(f"citadel.retrieval.lexical.{name}", value)
    with CaptureQueriesContext(connection) as captured:
        pruned = search(principal=principal, query=query, k=k, settings=settings).lexical
    _unpruned(monkeypatch)
    full = search(principal=principal, query=query, k=k, settings=settings).lexical
    scoring = [q["sql"] for q in captured.captured_queries if "terms AS (SELECT * FROM unnest" in q["sql"]]
    return pruned, full, scoring


def test_chunks_with_only_a_common_word_are_not_scored_when_they_cannot_reach_the_top(world, monkeypatch):
    """Given "sabbatical" in 3 chunks and "travel" in 40, when the lexical leg looks for the top 3,
    then one pass over the "sabbatical" chunks answers it (a "travel"-only chunk can score at most
    idf(travel) x 2.2, far below them), and its scores are those of the unpruned pass."""
    org = world.org("acme")
    bob = world.principal("bob", org)
    for i in range(3):
        make_document(org, f"sabbatical-{i}", [f"Travel during a sabbatical, case {i}."])
    for i in range(40):
        make_document(org, f"travel-{i}", [f"Travel request number {i}."])

    pruned, full, scoring = _pruned_and_full(monkeypatch, bob, "sabbatical travel", {"PRUNED_PASS_POSTINGS": 0}, k=3)

    assert len(scoring) == 1
    assert {h.external_id for h in pruned} == {"sabbatical-0", "sabbatical-1", "sabbatical-2"}
    assert [(h.chunk_id, h.lexical_score) for h in pruned] == [(h.chunk_id, h.lexical_score) for h in full]


def _skewed_corpus(world, *, seed: int, documents: int, words: tuple[int, int], queries: int):
    """Chunks drawn from a small vocabulary with skewed word frequencies, and queries of 2-5 of its
    words: many ties and near-ties, where a wrong bound would show."""
    rng = random.Random(seed)
    vocab = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]
    weights = [40, 25, 15, 8, 5, 3, 2, 1, 1, 1]
    org = world.org("acme")
    for i in range(documents):
        make_document(org, f"doc-{i}", [" ".join(rng.choices(vocab, weights, k=rng.randint(*words)))])
    return world.principal("bob", org), [" ".join(rng.sample(vocab, rng.randint(2, 5))) for _ in range(queries)]


def test_pruning_never_changes_the_lexical_top_n(world, monkeypatch):
    """Given chunks of a skewed vocabulary, when every query is ranked with the pruned first pass
    and without it, then both give the same chunks and scores (the second pass runs whenever the
    first cannot prove its top n)."""
    bob, queries = _skewed_corpus(world, seed=5, documents=60, words=(3, 12), queries=15)
    passes = []
    for query in queries:
        pruned, full, scoring = _pruned_and_full(monkeypatch, bob, query, {"PRUNED_PASS_POSTINGS": 0})
        passes.append(len(scoring))

        assert [h.chunk_id for h in pruned] == [h.chunk_id for h in full], query
        assert [h.lexical_score for h in pruned] == pytest.approx([h.lexical_score for h in full]), query
    assert 1 in passes and 2 in passes  # both outcomes of the proof were exercised


def test_chunks_holding_one_query_word_are_not_scored_when_two_word_chunks_fill_the_top(world, monkeypatch):
    """Given 30 chunks holding "sabbatical" and "travel" and 60 holding one of them, when the
    lexical leg looks for the top 5, then one pass over the chunks holding both answers it (a
    chunk with one of the words scores at most that word's ceiling), with the unpruned scores."""
    org = world.org("acme")
    bob = world.principal("bob", org)
    for i in range(30):
        make_document(org, f"both-{i}", [f"Travel during a sabbatical, case {i}."])
    for i in range(30):
        make_document(org, f"travel-{i}", [f"Travel request number {i}."])
        make_document(org, f"sabbatical-{i}", [f"Sabbatical request number {i}."])

    pruned, full, scoring = _pruned_and_full(monkeypatch, bob, "sabbatical travel", {"CONJUNCTIVE_PASS_FROM": 0})

    assert len(scoring) == 1
    assert all(h.external_id.startswith("both-") for h in pruned)
    assert [(h.chunk_id, h.lexical_score) for h in pruned] == [(h.chunk_id, h.lexical_score) for h in full]


def test_the_two_word_pass_never_changes_the_lexical_top_n(world, monkeypatch):
    """Given chunks of varied lengths drawn from a skewed vocabulary, when every query is ranked
    with the two-word pass forced and without any pruning, then both give the same chunks and
    scores (the one-word passes run whenever the two-word pass cannot prove its top n)."""
    bob, queries = _skewed_corpus(world, seed=9, documents=80, words=(2, 14), queries=20)
    forced = {"CONJUNCTIVE_PASS_FROM": 0, "PRUNED_PASS_POSTINGS": 0}
    outcomes = []
    for query in queries:
        pruned, full, scoring = _pruned_and_full(monkeypatch, bob, query, forced)
        two_word_first = bool(scoring) and "' & '" in scoring[0]
        outcomes.append("proved" if two_word_first and len(scoring) == 1 else "fell back" if two_word_first else "")

        assert [h.chunk_id for h in pruned] == [h.chunk_id for h in full], query
        assert [h.lexical_score for h in pruned] == pytest.approx([h.lexical_score for h in full]), query
    assert {"proved", "fell back"} <= set(outcomes)  # the two-word pass both proved its top n and did not


def _estimates_read(captured) -> int:
    return sum(1 for q in captured if "sum(v.chunks_total)" in q["sql"])


def test_a_kept_plan_estimate_never_widens_what_a_member_reads(world, monkeypatch):
    """Given a member's plan estimate kept from a search made while they could read a document,
    when that document's grant is revoked and they search again within the minute, then the
    estimate is not read again and the document is no longer found: permissions are applied by
    every statement, the estimate only chose the plan. After the minute it is read again."""
    org = world.org("acme")
    bob = world.principal("bob", org)
    doc = make_document(org, "handbook", ["Refunds are paid within five days."])
    clock = [1000.0]
    monkeypatch.setattr("citadel.retrieval.dense.time.monotonic", lambda: clock[0])

    with CaptureQueriesContext(connection) as first:
        assert external_ids(search(principal=bob, query="refunds paid").hits) == {"handbook"}
    AccessGrant.objects.filter(document=doc).delete()
    with CaptureQueriesContext(connection) as second:
        after = search(principal=bob, query="refunds paid")
    clock[0] += 61
    with CaptureQueriesContext(connection) as third:
        search(principal=bob, query="refunds paid")

    assert after.hits == [] and after.dense == [] and after.lexical == []
    assert [_estimates_read(q.captured_queries) for q in (first, second, third)] == [1, 0, 1]


def test_a_failing_embedding_provider_leaves_lexical_results(world, acme, monkeypatch):
    class Down:
        dimensions = 384

        def embed(self, texts):
            raise ConnectionError("provider unreachable")

    monkeypatch.setattr("citadel.retrieval.services.get_embedder", lambda name: Down())
    bob = world.principal("bob", "acme")

    result = search(principal=bob, query=QUERY)

    assert result.plan["dense_mode"] == "unavailable"
    assert [h.external_id for h in result.hits] == ["handbook"]
    assert all(h.dense_rank is None and h.lexical_rank for h in result.hits)


def test_in_a_large_organization_common_words_do_not_make_every_chunk_a_candidate(world):
    """Given an organization where "policy" is in every chunk and "sabbatical" in one, when the
    lexical leg runs with the large-organization rules, only chunks with a selective word are
    scored; a query of common words alone still matches on its rarest word."""
    org = world.org("bigco")
    ann = world.principal("ann", "bigco")
    make_document(org, "sabbatical", ["The policy grants a sabbatical after seven years."])
    for i in range(30):
        make_document(org, f"other-{i}", [f"This policy covers topic number {i} and the policy owner."])
    large = {"lexical_exact_below": 0, "lexical_selective_df": 0.05, "dense_weight": 0.0}

    result = search(principal=ann, query="policy sabbatical", k=10, settings=large)

    assert [h.external_id for h in result.lexical] == ["sabbatical"]
    common_only = search(principal=ann, query="policy owner", k=10, settings=large)
    assert common_only.lexical and all("owner" in h.text for h in common_only.lexical)
    exact = search(principal=ann, query="policy sabbatical", k=10, settings={"dense_weight": 0.0})
    assert len(exact.lexical) == 10


def _leg(scores: dict[int, float]) -> list[LegHit]:
    ordered = sorted(scores.items(), key=lambda item: -item[1])
    return [LegHit(chunk_id=cid, rank=i, score=s) for i, (cid, s) in enumerate(ordered, start=1)]


def test_fusion_follows_the_leg_that_is_sure():
    """Given a dense leg that barely tells its ten candidates apart and a lexical leg with one of
    them far above the rest (a rare word matched), when they are fused with equal weights, then
    that chunk comes first, ahead of the dense leg's first; fused scores lie in (0, 1), best first."""
    dense = _leg({cid: 0.600 - 0.001 * cid for cid in range(1, 11)})
    lexical = _leg({6: 12.0} | {cid: 2.0 - 0.1 * cid for cid in (2, 3, 4, 5, 7, 8, 9, 10)} | {1: 1.0})

    fused = _fuse(dense, lexical, RetrievalSettings(), dense_more={}, lexical_more={})

    assert [h.chunk_id for h in fused][:2] == [6, 1]
    assert all(0.0 < h.score < 1.0 for h in fused)
    assert [h.score for h in fused] == sorted((h.score for h in fused), reverse=True)


def test_fusion_scores_a_chunk_one_leg_missed_with_that_leg():
    """Given a chunk only the lexical leg found, when the dense leg's score for it is known, then
    it counts: the same chunk with a high cosine ranks above one with a low cosine."""
    dense = _leg({1: 0.80, 2: 0.50, 3: 0.40})
    lexical = _leg({4: 5.0, 5: 5.0, 1: 1.0})

    fused = _fuse(dense, lexical, RetrievalSettings(), dense_more={4: 0.75, 5: 0.10}, lexical_more={2: 0.0, 3: 0.0})

    order = [h.chunk_id for h in fused]
    assert order.index(4) < order.index(5)


def test_a_leg_of_weight_zero_takes_no_part_in_fusion():
    """Given the dense weight set to 0, when the legs are fused, then the fused ranking is the
    lexical leg's, and chunks only the dense leg found are left out."""
    dense = _leg({1: 0.9, 2: 0.8})
    lexical = _leg({3: 4.0, 4: 2.0, 1: 1.0})

    fused = _fuse(dense, lexical, RetrievalSettings(dense_weight=0.0), dense_more={}, lexical_more={})

    assert [h.chunk_id for h in fused] == [3, 4, 1]
