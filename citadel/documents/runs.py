"""The life of a background run over documents (citadel.documents.models.DocumentRun: a report,
an extraction) that survives its worker dying: claimed by one worker at a time, failed with a
sentence, retried by its runner or an admin. Each change is one transaction with its audit event,
named `<app>.<verb>` after the run's app."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from citadel.audit.services import audit_record
from citadel.core.errors import InvalidInput, NotFound
from citadel.core.principal import Principal
from citadel.core.tasks import enqueue_on_commit
from citadel.documents.models import DocumentRun, RunStatus


def run_claim(model: type[DocumentRun], run_id: int) -> tuple[DocumentRun | None, bool]:
    """The run, and whether this worker now runs it: a queued run, or one whose worker died.
    A run another worker is on, or one that has finished, is left alone."""
    with transaction.atomic():
        run = model.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
            return run, False
        if run.status == RunStatus.RUNNING and not run.stuck:
            return run, False
        run.status = RunStatus.RUNNING
        run.attempts += 1
        run.started_at = timezone.now()
        run.error_message = ""
        run.save(update_fields=["status", "attempts", "started_at", "error_message"])
    return run, True


def run_fail(run: DocumentRun, message: str) -> DocumentRun:
    with transaction.atomic():
        run = type(run).objects.select_for_update().get(pk=run.pk)
        run.status = RunStatus.FAILED
        run.error_message = message
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error_message", "finished_at"])
        audit_record(
            verb=f"{run._meta.app_label}.failed",
            organization=run.organization_id,
            actor=None,
            target=run,
            metadata={"error": message},
        )
    return run


@transaction.atomic
def run_retry(*, model: type[DocumentRun], principal: Principal, run_id: int, task: str, reset=None) -> DocumentRun:
    """Queue a failed (or stuck) run again, as its runner or an admin; what it finished is kept.
    `reset(run)` undoes, in the same transaction, what the failure left half done."""
    run = model.objects.select_for_update().filter(pk=run_id, organization_id=principal.organization_id).first()
    if run is None or (run.runner_id != principal.user_id and not principal.is_admin):
        raise NotFound(f"{model._meta.verbose_name.capitalize()} not found.")
    if run.shown_status != RunStatus.FAILED:
        return run
    if reset is not None:
        reset(run)
    run.status = RunStatus.QUEUED
    run.error_message = ""
    run.save(update_fields=["status", "error_message"])
    audit_record(
        verb=f"{run._meta.app_label}.retried",
        organization=run.organization_id,
        actor=principal,
        target=run,
        metadata={},
    )
    enqueue_on_commit(task, run.pk)
    return run


def run_definition_save(
    *,
    model,
    part_field: str,
    organization_id: int,
    data: dict,
    parts: list,
    principal: Principal | None,
    audit_parts: list[dict],
):
    """Create what defines a kind of run (a checklist, an extraction schema: a slug, a title and
    ordered parts already checked), or replace the title and parts of the one with the same slug;
    runs already made keep the parts they were run with. In the caller's transaction, with the
    audit event `<app>.<model>_created` or `_updated`."""
    slug = str(data.get("slug") or "").strip()
    title = " ".join(str(data.get("title") or "").split())
    definition = model(organization_id=organization_id, slug=slug, title=title)
    try:
        definition.clean_fields(exclude=["organization", "created_by"])
    except ValidationError as exc:
        raise InvalidInput(" ".join(f"{field}: {' '.join(m)}" for field, m in exc.message_dict.items())) from None
    existing = model.objects.select_for_update().filter(organization_id=organization_id, slug=slug).first()
    part_model = parts[0].__class__
    if existing is not None:
        existing.title = title
        existing.save(update_fields=["title", "updated_at"])
        part_model.objects.filter(**{part_field: existing}).delete()
        definition = existing
    else:
        definition.created_by_id = principal.user_id if principal else None
        definition.save()
    for part in parts:
        setattr(part, part_field, definition)
    part_model.objects.bulk_create(parts)
    audit_record(
        verb=f"{model._meta.app_label}.{part_field}_{'updated' if existing is not None else 'created'}",
        organization=organization_id,
        actor=principal,
        target=definition,
        metadata={"slug": slug, "title": title, "parts": audit_parts},
    )
    return definition
