import pytest
from django.contrib.auth import get_user_model

from citadel.accounts.models import Team
from citadel.accounts.selectors import principal_for
from citadel.documents.models import Document
from citadel.review.models import ReviewItem
from citadel.review.services import review_edit, review_gate
from tests.factories import make_document
from tests.review.helpers import handbook, make_answer


class Acme:
    """acme with an asker and a bystander (members), two reviewers and an admin; globex with its
    own reviewer. Everyone has an e-mail address."""

    def __init__(self, world):
        self.world = world
        self.org = world.org("acme")
        self.asker = world.user("ann", "acme", role="member")
        self.rita = world.user("rita", "acme", role="reviewer")
        self.rob = world.user("rob", "acme", role="reviewer")
        self.boss = world.user("boss", "acme", role="admin")
        self.mo = world.user("mo", "acme", role="member")
        self.globex_reviewer = world.user("gina", "globex", role="reviewer")
        for user in (self.asker, self.rita, self.rob, self.boss, self.mo, self.globex_reviewer):
            user.email = f"{user.username}@example.com"
            user.save(update_fields=["email"])

    def principal(self, username: str, org: str = "acme"):
        return principal_for(user=get_user_model().objects.get(username=username), organization=self.world.org(org))

    def set_policy(self, policy: str, watch_words: list[str] | None = None) -> None:
        self.org.review_policy = policy
        self.org.watch_words = watch_words or []
        self.org.save(update_fields=["review_policy", "watch_words"])

    def handbook(self) -> Document:
        return Document.objects.filter(organization=self.org, external_id="handbook").first() or handbook(self.org)

    def pending_item(self, **kwargs) -> ReviewItem:
        """A pending item (policy "all") on an answer to ann's question citing the handbook."""
        self.set_policy("all")
        documents = kwargs.pop("documents", None)
        answer = make_answer(
            self.org,
            kwargs.pop("asker", self.asker),
            documents=[self.handbook()] if documents is None else documents,
            **kwargs,
        )
        return review_gate(answer=answer)

    def legal_edit(self) -> ReviewItem:
        """A pending item on an answer built from a memo only team Legal may read, which lena (a
        reviewer in Legal) edited from "12 million" to "13 million"."""
        self.lena = self.world.user("lena", "acme", role="reviewer", teams=["Legal"])
        legal = Team.objects.get(organization=self.org, name="Legal")
        memo = make_document(self.org, "memo", ["The settlement is 12 million."], grants=[legal], title="Memo")
        item = self.pending_item(documents=[memo], text="The settlement is 12 million [1].")
        review_edit(principal=self.principal("lena"), item_id=item.pk, text="The settlement is 13 million [1].")
        return item


@pytest.fixture
def acme(world) -> Acme:
    return Acme(world)
