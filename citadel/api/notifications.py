"""What concerns the caller, as the bell shows it: their notifications in the organization they
act in, read or not, and whether they are e-mailed too. Anyone else's notification is a 404."""

from datetime import datetime

from ninja import Query, Router, Schema
from pydantic import Field

from citadel.api.fields import Id
from citadel.api.responses import errors
from citadel.notifications import selectors, services
from citadel.notifications.models import Notification

router = Router(tags=["notifications"])


class ListParams(Schema):
    unread: bool = Field(False, description="Only the notifications not yet read.")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class NotificationOut(Schema):
    id: int
    kind: str = Field(
        description="answer_approved, answer_rejected, report_ready (answered, waiting for review), "
        "report_published, extraction_ready, summary_ready, evaluation_done, run_failed, document_failed or "
        "documents_due (a daily digest of the documents you own whose review is due)."
    )
    title: str
    url: str = Field(description="The page it is about.")
    created_at: datetime
    read: bool
    read_at: datetime | None


class NotificationPage(Schema):
    count: int = Field(description="How many match (all, or the unread ones).")
    unread: int
    limit: int
    offset: int
    items: list[NotificationOut]


class ReadAllOut(Schema):
    marked: int = Field(description="How many were unread and are now read.")


class PreferencesIn(Schema):
    email: bool = Field(description="E-mail me what the bell shows, as well.")


class PreferencesOut(Schema):
    email: bool


def _out(notification: Notification) -> dict:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "title": notification.title,
        "url": services.absolute_url(notification.url),
        "created_at": notification.created_at,
        "read": notification.read,
        "read_at": notification.read_at,
    }


@router.get("/", response={200: NotificationPage, **errors(400, 401, 403, 422)}, url_name="notification_list")
def notification_list(request, params: Query[ListParams]):
    """Newest first."""
    notifications = selectors.notifications_for(principal=request.auth, unread_only=params.unread)
    return {
        "count": notifications.count(),
        "unread": selectors.unread_count(principal=request.auth),
        "limit": params.limit,
        "offset": params.offset,
        "items": [_out(n) for n in notifications[params.offset : params.offset + params.limit]],
    }


@router.post(
    "/{notification_id}/read",
    response={200: NotificationOut, **errors(400, 401, 403, 404, 422)},
    url_name="notification_read",
)
def notification_read(request, notification_id: Id):
    return _out(services.notification_mark_read(principal=request.auth, notification_id=notification_id))


@router.post("/read-all", response={200: ReadAllOut, **errors(401, 403)}, url_name="notification_read_all")
def notification_read_all(request):
    return {"marked": services.notification_mark_all_read(principal=request.auth)}


@router.get("/preferences", response={200: PreferencesOut, **errors(401, 403)}, url_name="notification_preferences")
def notification_preferences(request):
    return {"email": selectors.email_wanted(user_id=request.auth.user_id)}


@router.put(
    "/preferences",
    response={200: PreferencesOut, **errors(400, 401, 403, 422)},
    url_name="notification_preferences_set",
)
def notification_preferences_set(request, payload: PreferencesIn):
    """Applies in every organization you belong to."""
    preference = services.notification_preference_set(user=request.user, email=payload.email)
    return {"email": preference.email}
