"""Who may do what: the role gates and what each reader may see of an answer or of the record.

Views, admin, commands and the API ask here; they do not decide. The other half of the permission
model, which passages a principal may read, is citadel.documents.access (it compiles to the SQL
that runs inside the ranking query). A role is a rank (`Principal.has_role`): an admin is also a
reviewer, a reviewer also a member.

The audit trail and prompt logs:
- An organization's admins read its audit events, prompt logs and support timeline.
- Reviewers read only the prompt logs of answers they review (assigned to them or decided by them).
- Superusers read any organization; when they are not one of its admins the caller records an
  `audit.read` event in that organization's chain (`AuditAccess.cross_org`).
"""

from dataclasses import dataclass
from enum import StrEnum

from citadel.accounts.models import Membership, Organization
from citadel.core.errors import NotFound, PermissionDenied
from citadel.core.principal import Principal, Role

# Answer statuses (citadel.answers.models.AnswerStatus) whose text only reviewers read: waiting for
# a reviewer's decision, or rejected by one. The asker sees the status and the reviewer's reason.
TEXT_WITHHELD_STATUSES = frozenset({"pending_review", "rejected"})


def require_role(principal: Principal | None, role: Role, message: str) -> Principal:
    """The principal, when it holds `role` (or a higher one); PermissionDenied(message) otherwise."""
    if not isinstance(principal, Principal) or not principal.has_role(role):
        raise PermissionDenied(message)
    return principal


def may_read_answer_text(principal: Principal, answer) -> bool:
    """Whether `principal` may read the text (and open the citations) of an answer it can see."""
    return answer.status not in TEXT_WITHHELD_STATUSES or principal.is_reviewer


def sees_organization_answers(principal: Principal) -> bool:
    """Reviewers and admins see every answer of their organization (they review them); members
    see their own."""
    return principal.is_reviewer


def may_manage_document(principal: Principal, document) -> bool:
    """Retry, upload new versions of, and change who may read a document: admins, and its uploader."""
    return principal.is_admin or document.created_by_id == principal.user_id


def may_rename_document(principal: Principal, document) -> bool:
    """Change a document's title: admins, and its uploader (its creator, `created_by`)."""
    return principal.is_admin or document.created_by_id == principal.user_id


def may_archive_document(principal: Principal, document) -> bool:
    return principal.is_admin and document.archived_at is None


class AuditRole(StrEnum):
    ADMIN = "admin"
    REVIEWER = "reviewer"
    SUPERUSER = "superuser"  # a superuser who is not an admin of the organization read


@dataclass(frozen=True)
class AuditAccess:
    user_id: int
    organization: Organization
    role: AuditRole

    @property
    def cross_org(self) -> bool:
        return self.role == AuditRole.SUPERUSER

    @property
    def may_read_events(self) -> bool:
        return self.role in (AuditRole.ADMIN, AuditRole.SUPERUSER)


def audit_access_for(*, user, principal: Principal | None, org_slug: str | None = None) -> AuditAccess | None:
    """What `user` may read, in which organization. Superusers may pick any organization with
    `org_slug` and get None when they have neither picked one nor a membership to default to.
    Everybody else reads only the organization they are working in."""
    if user.is_superuser:
        if org_slug:
            organization = Organization.objects.filter(slug=org_slug).first()
            if organization is None:
                raise NotFound("No such organization.")
        elif principal is not None:
            organization = Organization.objects.get(pk=principal.organization_id)
        else:
            return None
        is_admin = Membership.objects.filter(user=user, organization=organization, role=Role.ADMIN).exists()
        return AuditAccess(user.pk, organization, AuditRole.ADMIN if is_admin else AuditRole.SUPERUSER)
    if principal is None:
        raise PermissionDenied("You are not a member of any organization.")
    if org_slug and org_slug != principal.organization_slug:
        raise NotFound("No such organization.")
    if principal.is_admin:
        role = AuditRole.ADMIN
    elif principal.is_reviewer:
        role = AuditRole.REVIEWER
    else:
        raise PermissionDenied("Only administrators and reviewers read logs.")
    return AuditAccess(principal.user_id, Organization.objects.get(pk=principal.organization_id), role)


def may_manage_run(principal: Principal, run) -> bool:
    """Retry or cancel a background run (a report, an extraction, a summary, a sync, an evaluation):
    the person who started it, and the organization's admins. The run must be of the principal's
    organization; the caller has found it through the principal's organization."""
    return isinstance(principal, Principal) and (principal.is_admin or run.owner_id == principal.user_id)
