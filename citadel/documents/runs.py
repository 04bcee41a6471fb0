"""What every kind of run over documents shares (a checklist's report, an extraction), so that a
kind is its two models and what its run does and shows, not another copy of the rest:

* its definitions (a checklist, a schema): saved and checked (`run_definition_create`) and read
  (`run_definitions_for`, `run_definitions_data`) the same way;
* starting a run over the documents chosen (`document_run_start`) and executing it as its runner
  (`document_run_execute`); the run's life in between and after (claimed, extended, finished,
  failed, retried, cancelled) is citadel.jobs';
* reading runs (`document_runs_visible`, `document_run_get`, `document_run_data`), and
  `DocumentRunReads`, the kind's selectors that its pages, commands and API read through;
* its pages (`run_views.DocumentRunPages`), its two commands (`run_commands.RunDefinitionCommand`,
  `DocumentRunCommand`) and its admin (`run_admin.RunDefinitionAdmin`, `DocumentRunAdmin`), each
  in a module of its layer; its API is citadel.api.document_runs.

What differs between kinds is declared on their models (RunDefinition's NOUN, PARTS, ...;
DocumentRun's DEFINITION, SHARED_STATUS and keep_parts) and in the kind's own modules."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import NotRequired, TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse

from citadel.accounts.rules import require_role
from citadel.accounts.selectors import principal_for
from citadel.audit.services import audit_record
from citadel.core.errors import InvalidInput, NotFound
from citadel.core.principal import Principal, Role
from citadel.core.tasks import enqueue_on_commit
from citadel.documents.models import DocumentRun, RunDefinition
from citadel.documents.selectors import (
    documents_for_run,
    external_document_ids,
    team_named,
)
from citadel.jobs.registry import run_kind_of
from citadel.jobs.selectors import run_progress
from citadel.jobs.services import RunStopped, run_claim, run_fail

logger = logging.getLogger(__name__)


class RunScope(TypedDict):
    """The documents a run is over, as documents_for_run takes them: the chosen ones, or every one
    of a team, or every one with a label."""

    document_ids: NotRequired[list[int] | None]
    team_id: NotRequired[int | None]
    label: NotRequired[str | None]


def run_scope_named(*, principal: Principal, documents: list[str], team: str | None, label: str | None) -> RunScope:
    """The scope a script names (external ids, a team's name, a label), as documents_for_run takes
    it. The documents are looked up before the team, so a script naming both hears of a missing
    document first."""
    return {
        "document_ids": external_document_ids(principal=principal, external_ids=list(documents)),
        "team_id": team_named(principal=principal, name=team) if team else None,
        "label": label,
    }


# --- definitions ---------------------------------------------------------------------------------


def definition_parts_relation(model: type[RunDefinition]) -> tuple[type[models.Model], str]:
    """The model of a definition's parts, and the name of their foreign key to it ("template")."""
    relation = model._meta.get_field(model.PARTS)
    return relation.related_model, relation.field.name


def _definition_parts(model: type[RunDefinition], raw_parts) -> list[models.Model]:
    """The parts a definition was given, built and checked in order; InvalidInput naming the first
    part that is wrong ("Item 2: ...")."""
    noun, parts_name, needs = model.NOUN, model.PARTS, model.PART_NEEDS
    if not isinstance(raw_parts, list) or not raw_parts:
        raise InvalidInput(f"A {noun} needs a list of {parts_name}, each with {needs}.")
    if len(raw_parts) > model.MAX_PARTS:
        raise InvalidInput(f"A {noun} holds at most {model.MAX_PARTS} {parts_name}; this one has {len(raw_parts)}.")
    part_model, link = definition_parts_relation(model)
    type_field = part_model._meta.get_field("type")
    types = [value for value, _ in type_field.choices]
    built, keys = [], set()
    for position, raw in enumerate(raw_parts, start=1):
        where = f"{model.PART.capitalize()} {position}"
        if not isinstance(raw, dict):
            raise InvalidInput(f"{where} must be an object with {needs}.")
        kind = raw.get("type", type_field.default)
        if kind not in types:
            raise InvalidInput(f"{where}: the type must be one of {', '.join(types)}.")
        part = part_model(
            position=position,
            type=kind,
            choices=raw.get("choices") or [],
            guidance=raw.get("guidance") or "",
            # Its model's clean() normalises the words further.
            **{model.PART_KEY: str(raw.get(model.PART_KEY) or "").strip()},
        )
        try:
            part.clean()
            part.clean_fields(exclude=[link])
        except ValidationError as exc:
            raise InvalidInput(f"{where}: {' '.join(exc.messages)}") from None
        key = getattr(part, model.PART_KEY)
        if model.UNIQUE_PART_KEY and key in keys:
            raise InvalidInput(f"{where}: another {model.PART} is named {key}.")
        keys.add(key)
        built.append(part)
    return built


@transaction.atomic
def run_definition_create(
    *, model: type[RunDefinition], organization_id: int, data: dict, principal: Principal | None = None
) -> RunDefinition:
    """Create a definition of a kind (a slug, a title and its ordered parts, each checked), or
    replace the title and parts of the one with the same slug: runs already made keep the parts
    they were run with. `principal`: the admin defining it; None for the operator's command line.
    Audited `<app>.<noun>_created` or `_updated`, with each part's key and type."""
    if principal is not None:
        require_role(principal, Role.ADMIN, f"Only admins define {model._meta.verbose_name_plural}.")
        if principal.organization_id != organization_id:
            raise NotFound("No such organization.")
    if not isinstance(data, dict):
        raise InvalidInput(f"A {model.NOUN} is an object with a slug, a title and {model.PARTS}.")
    parts = _definition_parts(model, data.get(model.PARTS))
    part_model, link = definition_parts_relation(model)
    slug = str(data.get("slug") or "").strip()
    title = " ".join(str(data.get("title") or "").split())
    definition = model(organization_id=organization_id, slug=slug, title=title)
    try:
        definition.clean_fields(exclude=["organization", "created_by"])
    except ValidationError as exc:
        raise InvalidInput(" ".join(f"{field}: {' '.join(m)}" for field, m in exc.message_dict.items())) from None
    existing = model.objects.select_for_update().filter(organization_id=organization_id, slug=slug).first()
    if existing is not None:
        existing.title = title
        existing.save(update_fields=["title", "updated_at"])
        part_model.objects.filter(**{link: existing}).delete()
        definition = existing
    else:
        definition.created_by_id = principal.user_id if principal else None
        definition.save()
    for part in parts:
        setattr(part, link, definition)
    part_model.objects.bulk_create(parts)
    audit_record(
        verb=f"{model._meta.app_label}.{link}_{'updated' if existing is not None else 'created'}",
        organization=organization_id,
        actor=principal,
        target=definition,
        metadata={
            "slug": slug,
            "title": title,
            "parts": [{model.PART_KEY: getattr(p, model.PART_KEY), "type": p.type} for p in parts],
        },
    )
    return definition


def run_definitions_for(*, model: type[RunDefinition], principal: Principal) -> QuerySet:
    """The organization's definitions of a kind, with their parts."""
    if not isinstance(principal, Principal):
        return model.objects.none()
    return model.objects.filter(organization_id=principal.organization_id).prefetch_related(model.PARTS)


def run_definitions_data(*, model: type[RunDefinition], principal: Principal) -> list[dict]:
    """The organization's definitions of a kind as the API lists them: slug, title and parts."""
    return [
        {"slug": d.slug, "title": d.title, model.PARTS: [model.part_data(p) for p in d.parts()]}
        for d in run_definitions_for(model=model, principal=principal)
    ]


# --- running -------------------------------------------------------------------------------------


@transaction.atomic
def document_run_start(
    *, model: type[DocumentRun], principal: Principal, slug: str, enqueue: bool = True, **scope: Unpack[RunScope]
) -> DocumentRun:
    """Queue a run of the kind's definition called `slug` over the chosen documents (or a team's,
    or those with a label), as `principal`, keeping the definition's parts as they are now
    (DocumentRun.keep_parts). Audited `<app>.started`; queued for a worker unless `enqueue` is
    False (the caller runs it: a command's --sync)."""
    if not isinstance(principal, Principal):
        raise NotFound("No such organization.")
    definition_model = model._meta.get_field(model.DEFINITION).related_model
    definition = definition_model.objects.filter(organization_id=principal.organization_id, slug=slug).first()
    if definition is None:
        raise NotFound(f"No {definition_model._meta.verbose_name} {slug!r}.")
    parts = list(definition.parts())
    if not parts:
        raise InvalidInput(f"This {definition.NOUN} has no {definition.PARTS}.")
    ids, scope_label = documents_for_run(principal=principal, **scope)
    run = model(
        organization_id=principal.organization_id,
        title=definition.title,
        runner_id=principal.user_id,
        document_ids=ids,
        scope_label=scope_label,
        **{model.DEFINITION: definition},
    )
    kept = run.keep_parts(parts)
    run.save(force_insert=True)
    if kept:
        type(kept[0]).objects.bulk_create(kept)
    audit_record(
        verb=f"{model._meta.app_label}.started",
        organization=principal.organization_id,
        actor=principal,
        target=run,
        metadata={
            model.DEFINITION: definition.slug,
            "document_ids": ids,
            "scope": scope_label,
            definition.PARTS: len(parts),
        },
    )
    if enqueue:
        # The kind's task, as it registered it (citadel.jobs.registry).
        enqueue_on_commit(run_kind_of(model).task, run.pk)
    return run


def document_run_execute[R: DocumentRun](*, model: type[R], run_id: int, work: Callable[[R, Principal], R]) -> R | None:
    """Do a run's work, `work(run, runner)`, when this worker claims it: a queued run, or one whose
    worker was lost (citadel.jobs). A run another worker is on, or one that has ended, is returned
    as it is. A run cancelled or taken over while it works stops where its work next extends it
    (RunStopped), writing nothing more, and is returned as it now is. A runner who left the
    organization fails the run with that reason, since it runs with their permissions."""
    run, claimed = run_claim(model, run_id)
    if not claimed:
        return run
    try:
        principal = principal_for(user=run.runner_id, organization=run.organization_id)
    except NotFound:
        return run_fail(
            run, f"The person who ran this {model._meta.verbose_name} is no longer a member of the organization."
        )
    try:
        return work(run, principal)
    except RunStopped as stopped:
        logger.info("%s: stopped", stopped)
        run.refresh_from_db()
        return run


# --- reading -------------------------------------------------------------------------------------


def document_runs_visible(*, model: type[DocumentRun], principal: Principal) -> QuerySet:
    """Reviewers and admins see the organization's runs of a kind (they review them); a member sees
    the runs they started, and the others' in the kind's SHARED_STATUS (a published report)."""
    if not isinstance(principal, Principal):
        return model.objects.none()
    runs = model.objects.filter(organization_id=principal.organization_id)
    if not principal.is_reviewer:
        theirs = Q(runner_id=principal.user_id)
        runs = runs.filter(theirs | Q(status=model.SHARED_STATUS) if model.SHARED_STATUS else theirs)
    return runs.select_related("runner", model.DEFINITION, "cancelled_by")


def document_run_get[R: DocumentRun](runs: QuerySet[R], run_id) -> R:
    """The run with this id among `runs` (those the reader may see); one the reader may not see is
    NotFound, as if it did not exist."""
    try:
        return runs.get(pk=int(run_id))
    except (runs.model.DoesNotExist, TypeError, ValueError):
        raise NotFound(f"{runs.model._meta.verbose_name.capitalize()} not found.") from None


def document_run_data(run: DocumentRun, *, site_url: str, **own) -> dict:
    """A run as its kind's command (--json) and the API give it: its id, title, definition, state,
    error and scope, then what the kind adds (`own`), then its run and its page."""
    definition = getattr(run, run.DEFINITION)
    return {
        f"{run._meta.model_name}_id": run.pk,
        "title": run.title,
        run.DEFINITION: definition.slug if definition else None,
        # The real state: a run whose worker was lost is "running", with run.worker_lost true.
        "status": run.status,
        "error": run.error_message or None,
        "scope": run.scope_label,
        **own,
        # Its progress, time running, lost worker and who cancelled it, as every kind of run gives them.
        "run": run_progress(run),
        "url": site_url.rstrip("/") + reverse(f"{run._meta.app_label}:detail", args=[run.pk]),
    }


@dataclass(frozen=True, slots=True)
class DocumentRunReads:
    """A kind's selectors, as its pages, commands and API read through them: `visible(principal)`,
    the runs a reader may see, and `data(principal=, <run>=, site_url=)`, a run as scripts get it
    for that reader, its run named after its model (report_data(report=...))."""

    model: type[DocumentRun]
    visible: Callable[[Principal], QuerySet]
    data: Callable[..., dict]

    def get(self, *, principal: Principal, run_id) -> DocumentRun:
        return document_run_get(self.visible(principal), run_id)

    def result(self, *, principal: Principal, run: DocumentRun, site_url: str) -> dict:
        return self.data(principal=principal, site_url=site_url, **{self.model._meta.model_name: run})
