"""Reading notifications: always a principal's own, in the organization they act in."""

from django.db.models import QuerySet

from citadel.core.errors import NotFound
from citadel.core.ids import parse_id
from citadel.core.principal import Principal
from citadel.notifications.models import Notification, NotificationPreference


def _own(principal: Principal) -> QuerySet[Notification]:
    if not isinstance(principal, Principal):
        return Notification.objects.none()
    return Notification.objects.filter(recipient_id=principal.user_id, organization_id=principal.organization_id)


def notifications_for(
    *, principal: Principal, unread_only: bool = False, limit: int | None = None
) -> QuerySet[Notification]:
    """The principal's notifications in their organization, newest first; `limit` None: all of
    them (a page paginates)."""
    notifications = _own(principal)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    notifications = notifications.order_by("-created_at", "-id")
    return notifications if limit is None else notifications[:limit]


def unread_count(*, principal: Principal) -> int:
    return _own(principal).filter(read_at__isnull=True).count()


def notification_get(*, principal: Principal, notification_id) -> Notification:
    """One of the principal's own notifications; anyone else's is NotFound, as if missing."""
    pk = notification_id if isinstance(notification_id, int) else parse_id(notification_id)
    notification = _own(principal).filter(pk=pk).first() if pk else None
    if notification is None:
        raise NotFound("Notification not found.")
    return notification


def email_wanted(*, user_id: int) -> bool:
    """Whether the person wants e-mail as well as the bell: yes unless they said no."""
    return NotificationPreference.objects.filter(user_id=user_id).values_list("email", flat=True).first() is not False
