"""Review decisions. Every write here is one transaction that also records a ReviewEvent (the
item's own history, with diffs) and an AuditEvent (the organization's tamper-evident log).
E-mails go out through tasks enqueued on commit, so a rolled-back decision never notifies."""

import difflib
import hashlib
import json
import re
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from citadel.accounts.models import Membership, Organization, ReviewPolicy
from citadel.accounts.rules import require_role
from citadel.accounts.selectors import principal_for
from citadel.answers.models import (
    Answer,
    AnswerStatus,
    Citation,
    Feedback,
    FeedbackReason,
    QuestionOrigin,
    RetrievedPassage,
    ReviewOutcome,
)
from citadel.answers.selectors import answer_sources, get_answer
from citadel.audit.services import audit_record, content_digest
from citadel.core.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from citadel.core.principal import Principal, Role
from citadel.core.tasks import enqueue_on_commit
from citadel.documents.access import content_view, readable_chunks
from citadel.evaluation.models import EvalSet, GoldenQuestion, GoldenSource
from citadel.review.models import OPEN_STATES, ReviewAction, ReviewEvent, ReviewItem, ReviewReason, ReviewState
from citadel.review.selectors import draft_text, eligible_reviewers, require_reviewer
from citadel.review.signals import review_decided

REVIEWED_EVAL_SET = "Reviewed questions"
MAX_TEXT = 20_000
MAX_NOTE = 4_000
MAX_WATCH_WORDS = 200
MAX_WATCH_WORD_LENGTH = 100
PUBLISHABLE = (AnswerStatus.ANSWERED, AnswerStatus.PARTIAL, AnswerStatus.INSUFFICIENT_EVIDENCE)


def _event(item: ReviewItem, *, actor_id: int | None, action: str, **fields) -> ReviewEvent:
    return ReviewEvent.objects.create(item=item, actor_id=actor_id, action=action, **fields)


def _clean(text: str | None, *, limit: int, what: str, required: bool = False) -> str:
    text = (text or "").strip()
    if required and not text:
        raise InvalidInput(f"{what} is required.")
    if len(text) > limit:
        raise InvalidInput(f"{what} is too long ({len(text)} characters; at most {limit}).")
    return text


def _require_sources_readable(principal: Principal, item: ReviewItem) -> None:
    """Deciding on (or editing) an answer means reading it: a reviewer who may not read every
    document it is built from escalates it instead."""
    content = content_view(principal=principal, document_ids=answer_sources(item.answer))
    if not content.complete:
        raise PermissionDenied(
            "This answer is built from documents you may not read "
            f"({'; '.join(content.withheld_titles)}); escalate it to a reviewer who may."
        )


def _locked_item(principal: Principal, item_id) -> ReviewItem:
    principal = require_reviewer(principal)
    try:
        item = (
            ReviewItem.objects.select_for_update(of=("self",))
            .select_related("answer__question")
            .get(pk=int(item_id), organization_id=principal.organization_id)
        )
    except (ReviewItem.DoesNotExist, ValueError, TypeError):
        raise NotFound("Review item not found.") from None
    if item.answer.question.asker_id == principal.user_id:
        raise PermissionDenied("Nobody reviews their own question; another reviewer must take this one.")
    return item


def _require_open(item: ReviewItem, doing: str) -> None:
    if not item.is_open:
        raise InvalidTransition(f"This review is already {item.state}; it cannot be {doing}.")


def _eligible_assignee(item: ReviewItem, assignee_id) -> int:
    try:
        assignee_id = int(assignee_id)
    except (TypeError, ValueError):
        raise InvalidInput("Choose a reviewer.") from None
    eligible = eligible_reviewers(
        organization_id=item.organization_id, exclude_user_ids=(item.answer.question.asker_id,)
    ).filter(pk=assignee_id)
    if not eligible.exists():
        raise InvalidInput("That person cannot review this answer (not a reviewer here, or it is their question).")
    return assignee_id


# --- the gate ------------------------------------------------------------------------------------


def _watch_word_hit(words: list[str], *texts: str) -> bool:
    for word in words:
        pattern = re.compile(r"(?<!\w)" + re.escape(word) + r"(?!\w)", re.IGNORECASE)
        if any(pattern.search(text or "") for text in texts):
            return True
    return False


def _gate_flags(answer: Answer) -> list[str]:
    """The answer builder's flags plus the two the organization's settings decide."""
    flags = list(answer.flags or [])
    if answer.status == AnswerStatus.INSUFFICIENT_EVIDENCE and "abstained" not in flags:
        # The caller turns the status into pending_review; the flag remembers the abstention so
        # approval publishes it as insufficient evidence again.
        flags.append("abstained")
    organization = answer.organization
    if "watch_word" not in flags and _watch_word_hit(
        organization.watch_words or [], answer.question.text, answer.original_text or answer.text
    ):
        flags.append("watch_word")
    if (
        "sensitive_document" not in flags
        and Citation.objects.filter(answer=answer, passage__document__sensitive=True).exists()
    ):
        flags.append("sensitive_document")
    return flags


def _default_assignee(*, answer: Answer) -> tuple[int | None, list[str]]:
    """The reviewer with the fewest open items among those who may read every document the answer
    is built from (admins who may, when no reviewer may; admins only when there are no reviewers).
    When nobody may, no one is assigned and the titles nobody can read come back: the item waits
    for someone with access instead of going to someone who cannot see it."""
    organization_id = answer.organization_id
    candidates = eligible_reviewers(organization_id=organization_id, exclude_user_ids=(answer.question.asker_id,))
    roles = dict(
        Membership.objects.filter(organization_id=organization_id, user__in=candidates).values_list("user_id", "role")
    )
    sources = answer_sources(answer)
    views = {
        user.pk: content_view(principal=principal_for(user=user, organization=organization_id), document_ids=sources)
        for user in candidates
    }
    able = [pk for pk, view in views.items() if view.complete]
    reviewers = [pk for pk in able if roles.get(pk) == Role.REVIEWER] or able
    if not reviewers:
        # What nobody may read, or (each lacks a different one) everything someone lacks.
        withheld = [view.withheld_titles for view in views.values()]
        common = [title for title in withheld[0] if all(title in w for w in withheld)] if withheld else []
        return None, common or list(dict.fromkeys(title for w in withheld for title in w))
    load = dict(
        ReviewItem.objects.filter(organization_id=organization_id, state__in=OPEN_STATES, assigned_to__in=reviewers)
        .values_list("assigned_to")
        .annotate(n=Count("id"))
    )
    return min(reviewers, key=lambda user_id: (load.get(user_id, 0), reviewers.index(user_id))), []


@transaction.atomic
def review_gate(*, answer: Answer) -> ReviewItem | None:
    """Apply the organization's review policy to a freshly generated answer.

    Returns the pending ReviewItem when the answer must wait for a human (the caller then shows
    the asker "waiting for review"), or None when it may be published now. `answer.flags` holds
    the signals the answer builder computed (abstained, unsupported_sentences, low_scores,
    sensitive_document, watch_word ...); the gate adds watch_word and sensitive_document itself
    from the organization's watch list and the cited documents, and saves them on the answer.
    A new item gets a due time and the least-loaded reviewer, who is e-mailed on commit."""
    flags = _gate_flags(answer)
    if flags != list(answer.flags or []):
        answer.flags = flags
        answer.save(update_fields=["flags"])
    policy = answer.organization.review_policy
    for_report = answer.question.origin == QuestionOrigin.REPORT
    if not for_report and policy == ReviewPolicy.NONE:
        return None
    if not for_report and policy == ReviewPolicy.FLAGGED and not flags:
        return None
    existing = ReviewItem.objects.filter(answer=answer, state__in=OPEN_STATES).first()
    if existing is not None:
        return existing
    reason = (
        ReviewReason.REPORT
        if for_report
        else ReviewReason.POLICY_ALL
        if policy == ReviewPolicy.ALL
        else ReviewReason.FLAGGED
    )
    question_key, evidence_key = _question_key(answer.question.text), _evidence_key(answer)
    waiting = None if for_report else _waiting_item(answer=answer, question_key=question_key, evidence_key=evidence_key)
    if waiting is not None:
        return _join(answer=answer, waiting=waiting, flags=flags, question_key=question_key, evidence_key=evidence_key)
    assignee_id, needs_access_to = _default_assignee(answer=answer)
    item = ReviewItem.objects.create(
        organization_id=answer.organization_id,
        answer=answer,
        state=ReviewState.PENDING,
        reason=reason,
        flags=flags,
        assigned_to_id=assignee_id,
        needs_access_to=needs_access_to,
        due_at=timezone.now() + timedelta(hours=settings.CITADEL["REVIEW_DUE_HOURS"]),
        question_key=question_key,
        evidence_key=evidence_key,
    )
    _event(item, actor_id=None, action=ReviewAction.OPENED, to_state=item.state, note=item.get_reason_display())
    audit_record(
        verb="review.opened",
        organization=answer.organization_id,
        actor=None,
        target=item,
        metadata={
            "answer_id": answer.pk,
            "reason": item.reason,
            "flags": item.flags,
            "assigned_to": assignee_id,
            "needs_access_to": needs_access_to,
        },
    )
    if assignee_id is not None:
        enqueue_on_commit("citadel.review.tasks.review_notify_assigned", item.pk)
    return item


def _question_key(text: str) -> str:
    """The question's words, case and punctuation aside: "How long is parental leave?" and
    "how long is parental leave" are one question."""
    return hashlib.sha256(" ".join(re.findall(r"\w+", text.casefold())).encode()).hexdigest()


def _evidence_key(answer: Answer) -> str:
    """The passages the answer quotes, numbered as its text cites them (so a text approved for
    one answer cites the same passages in the other); for an answer that quotes nothing, the
    passages it found."""
    cited = [
        [n, chunk_id, start, end]
        for n, chunk_id, start, end in Citation.objects.filter(answer=answer)
        .order_by("n", "quote_start")
        .values_list("n", "passage__chunk_id", "quote_start", "quote_end")
    ]
    found = (
        []
        if cited
        else list(RetrievedPassage.objects.filter(answer=answer).order_by("n").values_list("chunk_id", flat=True))
    )
    return hashlib.sha256(json.dumps({"cited": cited, "found": found}).encode()).hexdigest()


def _waiting_item(*, answer: Answer, question_key: str, evidence_key: str) -> ReviewItem | None:
    """The open item this answer can join: the same question on the same evidence, in the same
    organization, not a report's, and not one its asker is reviewing (nobody decides their own)."""
    return (
        ReviewItem.objects.select_for_update(of=("self",))
        .filter(
            organization_id=answer.organization_id,
            question_key=question_key,
            evidence_key=evidence_key,
            state__in=OPEN_STATES,
            joined_to__isnull=True,
        )
        .exclude(reason=ReviewReason.REPORT)
        .exclude(answer__question__origin=QuestionOrigin.REPORT)
        .exclude(assigned_to_id=answer.question.asker_id)
        .order_by("created_at", "pk")
        .first()
    )


def _join(*, answer: Answer, waiting: ReviewItem, flags: list[str], question_key: str, evidence_key: str) -> ReviewItem:
    item = ReviewItem.objects.create(
        organization_id=answer.organization_id,
        answer=answer,
        state=ReviewState.PENDING,
        reason=waiting.reason,
        flags=flags,
        due_at=waiting.due_at,
        joined_to=waiting,
        question_key=question_key,
        evidence_key=evidence_key,
    )
    _event(item, actor_id=None, action=ReviewAction.OPENED, to_state=item.state, note=item.get_reason_display())
    _event(waiting, actor_id=None, action=ReviewAction.JOINED, note=f"item:{item.pk}")
    audit_record(
        verb="review.joined",
        organization=answer.organization_id,
        actor=None,
        target=item,
        metadata={"answer_id": answer.pk, "joined_to": waiting.pk, "flags": flags},
    )
    return item


# --- decisions -----------------------------------------------------------------------------------


def _publish(answer: Answer, text: str, *, original: str) -> None:
    now = timezone.now()
    if not answer.original_text:
        # The model's words are kept whatever the reviewer publishes.
        answer.original_text = original
    answer.text = text
    answer.status = answer.published_status
    answer.finalized_at = answer.finalized_at or now
    answer.review_state = ReviewOutcome.APPROVED
    answer.save(update_fields=["original_text", "text", "status", "finalized_at", "review_state"])


@transaction.atomic
def review_approve(*, principal: Principal, item_id: int, note: str = "") -> ReviewItem:
    """Publish the answer (with the reviewer's edit, if any) and close the item, and the items
    that joined it with the same text."""
    item = _locked_item(principal, item_id)
    _require_not_joined(item)
    _require_sources_readable(principal, item)
    note = _clean(note, limit=MAX_NOTE, what="The note")
    answer = Answer.objects.select_for_update().get(pk=item.answer_id)
    text = item.edited_text or answer.text or answer.original_text
    _approve(item, answer, principal=principal, text=text, note=note)
    for twin in _joined_items(item, principal=principal):
        _approve(twin, twin.answer, principal=principal, text=text, note=note, joined_to=item)
    return item


def _approve(
    item: ReviewItem, answer: Answer, *, principal: Principal, text: str, note: str, joined_to: ReviewItem | None = None
) -> None:
    previous = item.move_to(ReviewState.APPROVED)
    item.answer = answer
    unedited = answer.text or answer.original_text
    if joined_to is not None and text != unedited:
        # The twin publishes the words the reviewer approved; its own stay as the model's original.
        item.edited_text = text
    _publish(answer, text, original=unedited)
    item.decided_by_id = principal.user_id
    item.decided_at = timezone.now()
    item.save(update_fields=["state", "edited_text", "decided_by", "decided_at"])
    _event(
        item,
        actor_id=principal.user_id,
        action=ReviewAction.APPROVED,
        from_state=previous,
        to_state=item.state,
        note=note,
    )
    audit_record(
        verb="review.approved",
        organization=item.organization_id,
        actor=principal,
        target=item,
        metadata={
            "answer_id": answer.pk,
            "from_state": previous,
            "edited": bool(item.edited_text),
            "status": answer.status,
            **({"joined_to": joined_to.pk} if joined_to is not None else {}),
        },
    )
    review_decided.send(sender=ReviewItem, item=item, principal=principal)
    enqueue_on_commit("citadel.review.tasks.review_notify_decision", item.pk)


@transaction.atomic
def review_reject(*, principal: Principal, item_id: int, reason: str) -> ReviewItem:
    """Withhold the answer, and those of the items that joined it; `reason` is shown to each asker."""
    item = _locked_item(principal, item_id)
    _require_not_joined(item)
    _require_sources_readable(principal, item)
    reason = _clean(reason, limit=MAX_NOTE, what="A reason for the asker", required=True)
    _reject(item, principal=principal, reason=reason)
    for twin in _joined_items(item, principal=principal):
        _reject(twin, principal=principal, reason=reason, joined_to=item)
    return item


def _reject(item: ReviewItem, *, principal: Principal, reason: str, joined_to: ReviewItem | None = None) -> None:
    previous = item.move_to(ReviewState.REJECTED)
    answer = Answer.objects.select_for_update().get(pk=item.answer_id)
    item.answer = answer
    answer.status = AnswerStatus.REJECTED
    answer.review_state = ReviewOutcome.REJECTED
    answer.finalized_at = answer.finalized_at or timezone.now()
    answer.save(update_fields=["status", "review_state", "finalized_at"])
    item.decision_reason = reason
    item.decided_by_id = principal.user_id
    item.decided_at = timezone.now()
    item.save(update_fields=["state", "decision_reason", "decided_by", "decided_at"])
    _event(
        item,
        actor_id=principal.user_id,
        action=ReviewAction.REJECTED,
        from_state=previous,
        to_state=item.state,
        note=reason,
    )
    audit_record(
        verb="review.rejected",
        organization=item.organization_id,
        actor=principal,
        target=item,
        metadata={
            "answer_id": answer.pk,
            "from_state": previous,
            "reason": reason,
            **({"joined_to": joined_to.pk} if joined_to is not None else {}),
        },
    )
    review_decided.send(sender=ReviewItem, item=item, principal=principal)
    enqueue_on_commit("citadel.review.tasks.review_notify_decision", item.pk)


def _require_not_joined(item: ReviewItem) -> None:
    if item.is_open and item.joined_to_id is not None:
        raise InvalidTransition(
            f"This question waits on review item {item.joined_to_id}, asked the same way on the same sources: "
            "decide that one and this one follows."
        )


def _joined_items(item: ReviewItem, *, principal: Principal) -> list[ReviewItem]:
    """The open items that joined `item`, locked, to take its decision. One the decider asked
    leaves the group and returns to the queue: nobody decides their own question."""
    twins = []
    for twin in (
        ReviewItem.objects.select_for_update(of=("self",))
        .select_related("answer__question")
        .filter(joined_to=item, state__in=OPEN_STATES)
        .order_by("pk")
    ):
        if twin.answer.question.asker_id != principal.user_id:
            twins.append(twin)
            continue
        twin.joined_to = None
        twin.assigned_to_id, twin.needs_access_to = _default_assignee(answer=twin.answer)
        twin.save(update_fields=["joined_to", "assigned_to", "needs_access_to"])
        _event(twin, actor_id=None, action=ReviewAction.ASSIGNED, note="left the item its reviewer asked")
        audit_record(
            verb="review.unjoined",
            organization=twin.organization_id,
            actor=principal,
            target=twin,
            metadata={"answer_id": twin.answer_id, "joined_to": item.pk, "assigned_to": twin.assigned_to_id},
        )
    return twins


@transaction.atomic
def review_escalate(
    *, principal: Principal, item_id: int, note: str = "", assignee_id: int | None = None
) -> ReviewItem:
    """Hand the item up: to `assignee_id` when given, else to the organization's admins."""
    item = _locked_item(principal, item_id)
    _require_not_joined(item)
    note = _clean(note, limit=MAX_NOTE, what="The note")
    if assignee_id not in (None, ""):
        assignee_id = _eligible_assignee(item, assignee_id)
        if assignee_id == principal.user_id:
            raise InvalidInput("Escalate to someone else, or leave the reviewer empty to alert the admins.")
    else:
        assignee_id = None
    previous = item.move_to(ReviewState.ESCALATED)
    item.assigned_to_id = assignee_id
    item.save(update_fields=["state", "assigned_to"])
    _event(
        item,
        actor_id=principal.user_id,
        action=ReviewAction.ESCALATED,
        from_state=previous,
        to_state=item.state,
        note=note,
    )
    audit_record(
        verb="review.escalated",
        organization=item.organization_id,
        actor=principal,
        target=item,
        metadata={"answer_id": item.answer_id, "from_state": previous, "assigned_to": assignee_id, "note": note},
    )
    enqueue_on_commit("citadel.review.tasks.review_notify_escalation", item.pk)
    return item


@transaction.atomic
def review_edit(*, principal: Principal, item_id: int, text: str, note: str = "") -> ReviewItem:
    """Change the text approval will publish. The model's original stays on the answer; the
    item's history keeps a unified diff of every edit."""
    item = _locked_item(principal, item_id)
    _require_not_joined(item)
    _require_sources_readable(principal, item)
    _require_open(item, "edited")
    text = _clean(text, limit=MAX_TEXT, what="The answer text", required=True)
    note = _clean(note, limit=MAX_NOTE, what="The note")
    before = draft_text(item)
    if text == before:
        return item
    # Lines compared without their ends, so a last line without one keeps a line of its own.
    diff = "\n".join(
        difflib.unified_diff(
            before.splitlines() or [""], text.splitlines(), fromfile="before", tofile="after", lineterm=""
        )
    )
    item.edited_text = text
    item.save(update_fields=["edited_text"])
    event = _event(item, actor_id=principal.user_id, action=ReviewAction.EDITED, note=note, diff=diff)
    audit_record(
        verb="review.edited",
        organization=item.organization_id,
        actor=principal,
        target=item,
        metadata={
            "answer_id": item.answer_id,
            "review_event_id": event.pk,
            "before_digest": content_digest(before),
            "after_digest": content_digest(text),
            "chars_before": len(before),
            "chars_after": len(text),
        },
    )
    return item


@transaction.atomic
def review_assign(*, principal: Principal, item_id: int, assignee_id: int | None) -> ReviewItem:
    """Give the item to a reviewer (None leaves it to whoever picks it up)."""
    item = _locked_item(principal, item_id)
    _require_not_joined(item)
    _require_open(item, "reassigned")
    new = None if assignee_id in (None, "") else _eligible_assignee(item, assignee_id)
    if new == item.assigned_to_id:
        return item
    previous = item.assigned_to_id
    item.assigned_to_id = new
    item.save(update_fields=["assigned_to"])
    _event(item, actor_id=principal.user_id, action=ReviewAction.ASSIGNED, note=f"user:{new}" if new else "unassigned")
    audit_record(
        verb="review.assigned",
        organization=item.organization_id,
        actor=principal,
        target=item,
        metadata={"answer_id": item.answer_id, "from": previous, "to": new},
    )
    return item


@transaction.atomic
def review_note(*, principal: Principal, item_id: int, note: str) -> ReviewItem:
    """Add a reviewer note (allowed after the decision too: notes explain, they do not decide)."""
    item = _locked_item(principal, item_id)
    note = _clean(note, limit=MAX_NOTE, what="The note", required=True)
    stamp = f"{timezone.now():%Y-%m-%d %H:%M} {principal.username}: {note}"
    item.notes = f"{item.notes}\n{stamp}" if item.notes else stamp
    item.save(update_fields=["notes"])
    _event(item, actor_id=principal.user_id, action=ReviewAction.NOTED, note=note)
    audit_record(
        verb="review.noted",
        organization=item.organization_id,
        actor=principal,
        target=item,
        metadata={"answer_id": item.answer_id, "note": note},
    )
    return item


# --- feedback and promotion ----------------------------------------------------------------------


@transaction.atomic
def feedback_submit(
    *, principal: Principal, answer_id: int, helpful: bool, reason: str = "", comment: str = ""
) -> Feedback:
    """Record an asker's (or colleague's) verdict on a published answer. "Not helpful" puts the
    answer back in front of a reviewer: it opens a ReviewItem, or joins the one already open."""
    answer = get_answer(principal=principal, answer_id=answer_id)
    if answer.status not in PUBLISHABLE:
        raise InvalidInput("Feedback opens once the answer is published.")
    if not isinstance(helpful, bool):
        raise InvalidInput("Say whether the answer was helpful.")
    comment = _clean(comment, limit=MAX_NOTE, what="The comment")
    reason = (reason or "").strip()
    if helpful:
        reason = ""
    elif reason not in FeedbackReason.values:
        raise InvalidInput("Pick what was wrong with the answer.")
    feedback = Feedback.objects.create(
        answer=answer, user_id=principal.user_id, helpful=helpful, reason=reason, comment=comment
    )
    item = None
    if not helpful:
        item = ReviewItem.objects.select_for_update().filter(answer=answer, state__in=OPEN_STATES).first()
        note = f"{reason}: {comment}" if comment else reason
        if item is None:
            assignee_id, needs_access_to = _default_assignee(answer=answer)
            item = ReviewItem.objects.create(
                organization_id=answer.organization_id,
                answer=answer,
                state=ReviewState.PENDING,
                reason=ReviewReason.FEEDBACK,
                flags=[*(answer.flags or []), f"feedback_{reason}"],
                assigned_to_id=assignee_id,
                needs_access_to=needs_access_to,
                due_at=timezone.now() + timedelta(hours=settings.CITADEL["REVIEW_DUE_HOURS"]),
            )
            _event(item, actor_id=principal.user_id, action=ReviewAction.OPENED, to_state=item.state, note=note)
            answer.review_state = ReviewOutcome.PENDING
            answer.save(update_fields=["review_state"])
            audit_record(
                verb="review.opened",
                organization=answer.organization_id,
                actor=principal,
                target=item,
                metadata={
                    "answer_id": answer.pk,
                    "reason": item.reason,
                    "flags": item.flags,
                    "feedback_id": feedback.pk,
                },
            )
        else:
            _event(item, actor_id=principal.user_id, action=ReviewAction.FEEDBACK, note=note)
    audit_record(
        verb="feedback.submitted",
        organization=answer.organization_id,
        actor=principal,
        target=feedback,
        metadata={
            "answer_id": answer.pk,
            "helpful": helpful,
            "reason": reason,
            "review_item_id": item.pk if item else None,
        },
    )
    return feedback


@transaction.atomic
def golden_promote(*, principal: Principal, answer_id: int, external_ids: list[str], notes: str = "") -> GoldenQuestion:
    """Turn a reviewed question into a golden question of the organization's "Reviewed
    questions" set, expecting the documents the reviewer ticked (only documents retrieved for
    this answer that the reviewer may read). Promoting the same answer again updates it."""
    principal = require_reviewer(principal)
    answer = get_answer(principal=principal, answer_id=answer_id)
    items = ReviewItem.objects.filter(answer=answer)
    if not items.exists():
        raise InvalidInput("Only reviewed questions can become golden questions.")
    if answer.question.asker_id == principal.user_id:
        raise PermissionDenied("Nobody reviews their own question; another reviewer must promote it.")
    allowed = set(
        readable_chunks(principal)
        .filter(pk__in=RetrievedPassage.objects.filter(answer=answer).values("chunk_id"))
        .values_list("document__external_id", flat=True)
    )
    wanted = list(dict.fromkeys(str(e).strip() for e in external_ids or [] if str(e).strip()))
    if not wanted:
        raise InvalidInput("Tick at least one document the question should find.")
    unknown = [e for e in wanted if e not in allowed]
    if unknown:
        raise InvalidInput(f"Not among this answer's sources: {', '.join(unknown)}.")
    notes = _clean(notes, limit=MAX_NOTE, what="The notes")
    eval_set, _ = EvalSet.objects.get_or_create(organization_id=answer.organization_id, name=REVIEWED_EVAL_SET)
    golden = GoldenQuestion.objects.filter(eval_set=eval_set, from_answer=answer).first()
    created = golden is None
    if created:
        golden = GoldenQuestion(
            eval_set=eval_set,
            from_answer=answer,
            question=answer.question.text,
            source=GoldenSource.REVIEW,
            created_by_id=principal.user_id,
        )
    golden.expected_external_ids = wanted
    golden.notes = notes
    golden.save()
    _event(items.latest("created_at"), actor_id=principal.user_id, action=ReviewAction.PROMOTED, note=", ".join(wanted))
    audit_record(
        verb="evaluation.golden_promoted",
        organization=answer.organization_id,
        actor=principal,
        target=golden,
        metadata={"answer_id": answer.pk, "eval_set_id": eval_set.pk, "expected": wanted, "created": created},
    )
    return golden


# --- policy --------------------------------------------------------------------------------------


def _clean_watch_words(words) -> list[str]:
    if isinstance(words, str):
        words = re.split(r"[\n,]", words)
    cleaned: dict[str, str] = {}
    for word in words or []:
        word = str(word).strip()
        if not word:
            continue
        if len(word) > MAX_WATCH_WORD_LENGTH:
            raise InvalidInput(f"Watch words are at most {MAX_WATCH_WORD_LENGTH} characters: {word[:30]}…")
        cleaned.setdefault(word.casefold(), word)
    if len(cleaned) > MAX_WATCH_WORDS:
        raise InvalidInput(f"At most {MAX_WATCH_WORDS} watch words.")
    return list(cleaned.values())


@transaction.atomic
def review_policy_update(*, principal: Principal, policy: str, watch_words: list[str] | str) -> Organization:
    """Set which answers wait for a human, and the organization's watch list (admins only)."""
    require_role(principal, Role.ADMIN, "Only the organization's admins may change its review policy.")
    if policy not in ReviewPolicy.values:
        raise InvalidInput(f"Unknown review policy {policy!r}; choose one of {', '.join(ReviewPolicy.values)}.")
    words = _clean_watch_words(watch_words)
    organization = Organization.objects.select_for_update().get(pk=principal.organization_id)
    before = {"review_policy": organization.review_policy, "watch_words": list(organization.watch_words or [])}
    after = {"review_policy": policy, "watch_words": words}
    if before == after:
        return organization
    organization.review_policy = policy
    organization.watch_words = words
    organization.save(update_fields=["review_policy", "watch_words"])
    audit_record(
        verb="policy.changed",
        organization=organization.pk,
        actor=principal,
        target=organization,
        metadata={"from": before, "to": after},
    )
    return organization
