"""Two organizations: ann is a member of both, bob a member of acme only."""

import pytest

from citadel.notifications.models import NotificationKind
from citadel.notifications.services import notification_send


class People:
    def __init__(self, world):
        self.world = world
        self.acme = world.org("acme")
        self.globex = world.org("globex")
        self.ann = world.user("ann", "acme")
        world.user("ann", "globex")
        self.bob = world.user("bob", "acme")
        for user in (self.ann, self.bob):
            user.email = f"{user.username}@example.com"
            user.save(update_fields=["email"])

    def principal(self, username: str, org: str = "acme"):
        return self.world.principal(username, org)

    def tell(self, user, org=None, *, title="Answer to “Refunds?”: approved", url="/answers/1/", **kwargs):
        return notification_send(
            recipient_id=user.pk,
            organization_id=(org or self.acme).pk,
            kind=kwargs.pop("kind", NotificationKind.ANSWER_APPROVED),
            title=title,
            url=url,
            **kwargs,
        )


@pytest.fixture
def people(world) -> People:
    return People(world)
