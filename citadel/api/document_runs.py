"""The API every kind of run over documents has (reports, extractions): its definitions, a run
started over documents, and a run read as the caller may read it. A kind's module declares its
schemas and calls `document_run_routes`, which adds the three operations with the paths, names and
operation ids each kind has always had (for reports: GET /templates `report_templates`, POST
`report_run`, GET /{report_id} `report_detail`)."""

import inspect
from collections.abc import Callable

from ninja import Router, Schema, Status
from pydantic import Field, create_model
from pydantic.fields import FieldInfo

from citadel.api.fields import Id, limited
from citadel.api.responses import errors
from citadel.documents.models import DocumentRun
from citadel.documents.runs import DocumentRunReads, document_run_start, run_definitions_data, run_scope_named
from citadel.documents.selectors import MAX_RUN_DOCUMENTS


def document_run_status(model: type[DocumentRun]) -> FieldInfo:
    """A kind's `status` field as its run's schema describes it: its states, in order, and what a
    run whose worker stopped shows."""
    states = [value for value, _ in model._meta.get_field("status").choices]
    return Field(
        description=f"{', '.join(states[:-1])} or {states[-1]}. A running {model._meta.verbose_name} whose "
        "worker stopped stays running (run.worker_lost) until another worker resumes it."
    )


def _run_in(reads: DocumentRunReads, module: str, documents: str) -> type[Schema]:
    """The body that starts a run (`<Run>In` in the schema): the slug of the definition to run,
    then the documents' external ids (described by `documents`), or a team, or a label. A field
    that would hide one of the schema's own attributes ("schema") is read as `<field>_`."""
    model = reads.model
    definition = model.DEFINITION
    noun = model._meta.get_field(definition).related_model.NOUN
    attribute = f"{definition}_" if hasattr(Schema, definition) else definition
    slug = Field(alias=definition if attribute != definition else None, description=f"The {noun}'s slug.")
    return create_model(
        f"{model.__name__}In",
        __base__=Schema,
        __module__=module,
        **{attribute: (limited(80, min_length=1), slug)},
        documents=(
            list[limited(255, min_length=1)],
            Field(default_factory=list, max_length=MAX_RUN_DOCUMENTS, description=documents),
        ),
        team=(limited(100) | None, Field(default=None, description="Or: every document of this team you may read.")),
        label=(limited(60) | None, Field(default=None, description="Or: every document with this label you may read.")),
    )


def document_run_routes(
    router: Router,
    module: str,
    reads: DocumentRunReads,
    /,
    *,
    definition_out: type[Schema],
    run_out: type[Schema],
    documents: str,
    started: str,
) -> None:
    """Add a kind's three operations to its router, as functions named as if its `module` had
    written them (their operation ids and summaries come from that): the definitions, starting a
    run (`started`: its description; `documents`: what its body's documents are) and reading one."""
    model = reads.model
    definition_model = model._meta.get_field(model.DEFINITION).related_model
    name, definitions = model._meta.model_name, f"{definition_model.NOUN}s"
    run_in = _run_in(reads, module, documents)
    slug_field = next(iter(run_in.model_fields))

    def listed(request):
        return run_definitions_data(model=definition_model, principal=request.auth)

    def run(request, body):
        principal = request.auth
        scope = run_scope_named(principal=principal, documents=body.documents, team=body.team, label=body.label)
        started_run = document_run_start(model=model, principal=principal, slug=getattr(body, slug_field), **scope)
        return Status(202, reads.result(principal=principal, run=started_run, site_url=_site(request)))

    def detail(request, **ids):
        run = reads.get(principal=request.auth, run_id=ids[f"{name}_id"])
        return reads.result(principal=request.auth, run=run, site_url=_site(request))

    router.get(
        f"/{definitions}", response={200: list[definition_out], **errors(401, 403)}, url_name=f"{name}_{definitions}"
    )(_as(listed, module, f"{name}_{definitions}"))
    router.post("", response={202: run_out, **errors(400, 401, 403, 404, 422)}, url_name=f"{name}_start")(
        _as(run, module, f"{name}_run", doc=started, body=run_in)
    )
    router.get(f"/{{{name}_id}}", response={200: run_out, **errors(401, 403, 404)}, url_name=f"{name}_detail")(
        _as(detail, module, f"{name}_detail", **{f"{name}_id": Id})
    )


def _as(view: Callable, module: str, name: str, *, doc: str | None = None, **params) -> Callable:
    """`view` as the kind's module's function `name(request, **params)`: django-ninja reads the
    operation id and summary from the name and module, and the parameters from the signature."""
    request = inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    view.__signature__ = inspect.Signature(
        [request, *(inspect.Parameter(p, inspect.Parameter.KEYWORD_ONLY, annotation=t) for p, t in params.items())]
    )
    view.__name__ = view.__qualname__ = name
    view.__module__, view.__doc__ = module, doc
    return view


def _site(request) -> str:
    return request.build_absolute_uri("/")
