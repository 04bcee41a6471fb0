"""For any organizations, teams, grants and documents, every principal's results are a subset of
what citadel.documents.access says they may read, through both legs and any filter."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from citadel.accounts.models import Organization
from citadel.accounts.selectors import principal_for
from citadel.accounts.services import organization_create, user_create_or_join
from citadel.documents.access import readable_chunk_ids, readable_chunks, readable_document_ids, readable_documents
from citadel.documents.models import Chunk, Document
from citadel.retrieval.services import retrieve
from tests.factories import make_document, make_version

WORDS = ["refund", "policy", "salary", "holiday", "contract", "server", "incident", "travel"]
TEAMS = ["red", "blue"]

grant = st.one_of(
    st.just("org"), st.sampled_from(TEAMS).map(lambda t: ("team", t)), st.integers(0, 2).map(lambda u: ("user", u))
)
document = st.fixed_dictionaries(
    {
        "org": st.integers(0, 1),
        "grants": st.lists(grant, max_size=2, unique=True),
        "texts": st.lists(
            st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join), min_size=1, max_size=3
        ),
        "fate": st.sampled_from(["live", "live", "archived", "new_version"]),
    }
)
member = st.fixed_dictionaries(
    {"teams": st.lists(st.sampled_from(TEAMS), unique=True), "role": st.sampled_from(["member", "admin"])}
)


class RetrievalNeverLeaks(TestCase):
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        documents=st.lists(document, min_size=1, max_size=5),
        members=st.lists(member, min_size=3, max_size=3),
        query=st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join),
    )
    def test_results_are_within_readable_chunks(self, documents, members, query):
        orgs = [organization_create(slug=f"org{i}") for i in range(2)]
        users = {}
        for org in orgs:
            for i, m in enumerate(members):
                users[(org.pk, i)], _ = user_create_or_join(
                    username=f"u{i}", organization=org, role=m["role"], teams=m["teams"]
                )
        for n, spec in enumerate(documents):
            org = orgs[spec["org"]]
            grants = []
            for g in spec["grants"]:
                if g == "org":
                    grants.append("organization")
                elif g[0] == "team":
                    grants.append(org.teams.get_or_create(name=g[1])[0])
                else:
                    grants.append(users[(org.pk, g[1])])
            doc = make_document(org, f"doc-{n}", spec["texts"], grants=grants)
            if spec["fate"] == "archived":
                Document.objects.filter(pk=doc.pk).update(archived_at=doc.created_at)
            elif spec["fate"] == "new_version":
                make_version(doc, [t + " revised" for t in spec["texts"]])

        for org in Organization.objects.all():
            for user in {users[(org.pk, i)] for i in range(len(members))}:
                principal = principal_for(user=user, organization=org)
                readable = set(readable_chunks(principal).values_list("pk", flat=True))
                hits = retrieve(principal=principal, query=query, k=20)
                assert {h.chunk_id for h in hits} <= readable
                # The SQL check answers use agrees with the QuerySet on every chunk there is.
                assert readable_chunk_ids(principal, Chunk.objects.values_list("pk", flat=True)) == readable
                assert readable_document_ids(principal, Document.objects.values_list("pk", flat=True)) == set(
                    readable_documents(principal).values_list("pk", flat=True)
                )
                # The dense leg ranks every readable chunk, so nothing readable is lost either.
                assert len(hits) == min(20, len(readable))
