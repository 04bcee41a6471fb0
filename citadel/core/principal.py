"""The Principal: who is acting, in which organization, with which teams and role.

Every permission check in Citadel takes one. It is built once per request (or command) by
`citadel.accounts.selectors.principal_for` and is immutable, so nothing downstream can widen it.
"""

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    MEMBER = "member"
    REVIEWER = "reviewer"
    ADMIN = "admin"


_RANK = {Role.MEMBER: 0, Role.REVIEWER: 1, Role.ADMIN: 2}


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    organization_id: int
    role: Role
    team_ids: frozenset[int] = field(default_factory=frozenset)
    username: str = ""
    organization_slug: str = ""

    def has_role(self, role: Role) -> bool:
        return _RANK[self.role] >= _RANK[Role(role)]

    @property
    def is_reviewer(self) -> bool:
        return self.has_role(Role.REVIEWER)

    @property
    def is_admin(self) -> bool:
        return self.has_role(Role.ADMIN)
