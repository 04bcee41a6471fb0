"""Telling people what concerns them: a notification in the app, and an e-mail when they want one.

Senders call `notification_send` inside the transaction of the change it tells of, so both commit
or neither does; the e-mail goes out from a task enqueued on commit, so a rolled-back change never
mails anyone."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from citadel.accounts.models import Membership
from citadel.audit.services import audit_record
from citadel.core.principal import Principal
from citadel.core.tasks import enqueue_on_commit
from citadel.notifications.models import Notification, NotificationPreference
from citadel.notifications.selectors import email_wanted, notification_get

EMAIL_TASK = "citadel.notifications.tasks.notification_email"
TITLE_MAX = Notification._meta.get_field("title").max_length


def absolute_url(path: str) -> str:
    return settings.CITADEL["SITE_URL"].rstrip("/") + path


def _is_product_path(url: str) -> bool:
    # Followed by a redirect when the notification is opened: a path here, never another site.
    return url.startswith("/") and not url.startswith(("//", "/\\"))


def _email_body(body: str) -> str:
    """The message, and how to stop these e-mails."""
    return (
        f"{body.rstrip()}\n\n-- \nCitadel e-mails you what it shows under the bell; to stop, untick "
        f"e-mail at {absolute_url(reverse('notifications:index'))}\n"
    )


@transaction.atomic
def notification_send(
    *,
    recipient_id: int,
    organization_id: int,
    kind: str,
    title: str,
    url: str,
    key: str = "",
    email_subject: str = "",
    email_body: str = "",
) -> Notification | None:
    """Tell a member of an organization something that concerns them: a notification in the app,
    and, if they want e-mail and have an address, an e-mail once the caller's transaction commits.
    `key`: what it tells of, so that telling it twice (a task run again) tells it once. Returns
    None for someone who is not (or no longer) an active member of the organization."""
    if not _is_product_path(url):
        raise ValueError(f"A notification links to a path inside the product, not {url!r}.")
    member = Membership.objects.filter(
        user_id=recipient_id, organization_id=organization_id, user__is_active=True
    ).exists()
    if not member:
        return None
    fields = {"organization_id": organization_id, "kind": kind, "title": title[:TITLE_MAX], "url": url}
    if key:
        notification, created = Notification.objects.get_or_create(recipient_id=recipient_id, key=key, defaults=fields)
        if not created:
            return notification
    else:
        notification = Notification.objects.create(recipient_id=recipient_id, **fields)
    address = get_user_model().objects.filter(pk=recipient_id).values_list("email", flat=True).get()
    if address and email_wanted(user_id=recipient_id):
        notification.email_subject = (email_subject or f"[Citadel] {title}")[:TITLE_MAX]
        notification.email_body = _email_body(email_body or f"{title}\n\n{absolute_url(url)}")
        notification.save(update_fields=["email_subject", "email_body"])
        enqueue_on_commit(EMAIL_TASK, notification.pk)
    return notification


def notification_email_send(*, notification_id: int) -> int:
    """Send a notification's e-mail, once: a second run of the task finds it sent. Returns how
    many messages went out."""
    claimed = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).exclude(email_subject="")
    if not claimed.update(emailed_at=timezone.now()):
        return 0
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    if not notification.recipient.email:
        return 0
    try:
        return send_mail(
            notification.email_subject,
            notification.email_body,
            settings.DEFAULT_FROM_EMAIL,
            [notification.recipient.email],
        )
    except Exception:
        # Not sent: the task may be run again.
        Notification.objects.filter(pk=notification_id).update(emailed_at=None)
        raise


def notification_mark_read(*, principal: Principal, notification_id) -> Notification:
    notification = notification_get(principal=principal, notification_id=notification_id)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notification_mark_all_read(*, principal: Principal) -> int:
    return Notification.objects.filter(
        recipient_id=principal.user_id, organization_id=principal.organization_id, read_at__isnull=True
    ).update(read_at=timezone.now())


@transaction.atomic
def notification_preference_set(*, user, email: bool) -> NotificationPreference:
    """Whether the person gets e-mail besides the bell, in every organization they belong to.
    Recorded, so support can say why a decision e-mail did not arrive."""
    preference, created = NotificationPreference.objects.select_for_update().get_or_create(
        user=user, defaults={"email": email}
    )
    if created or preference.email != email:
        preference.email = email
        preference.save(update_fields=["email", "updated_at"])
        audit_record(verb="notifications.preference_changed", actor=user, target=preference, metadata={"email": email})
    return preference
