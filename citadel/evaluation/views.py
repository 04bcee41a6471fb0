"""Evaluation pages. Admins only: runs retrieve as an admin, so their rows name documents a
member might not be allowed to know about. Another organization's objects are 404."""

import json
from functools import wraps

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from citadel.accounts.models import Organization
from citadel.accounts.rules import may_manage_run, require_role
from citadel.core.errors import InvalidInput
from citadel.core.ids import parse_id
from citadel.core.principal import Role
from citadel.evaluation import charts, scoring, selectors, services
from citadel.evaluation.forms import (
    EvalSetForm,
    GoldenQuestionForm,
    ImportForm,
    RetrievalSettingsForm,
    RunStartForm,
)
from citadel.evaluation.golden import GoldenFormatError
from citadel.evaluation.models import RunKind, RunStatus
from citadel.evaluation.retrieval_settings import (
    INDEX_TIME_KEYS,
    KNOB_KEYS,
    LABELS,
    QUERY_TIME_KEYS,
    organization_retrieval_settings,
)

RECENT_RUNS = 25
# The evaluation runs' name among the kinds of run (citadel.evaluation.apps).
RUN_KIND = "evaluation_runs"


def admin_only(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        principal = require_role(request.principal, Role.ADMIN, "Evaluation is for the organization's admins.")
        return view(request, principal, *args, **kwargs)

    return wrapper


def _any_unfinished(runs) -> bool:
    return any(run.status in (RunStatus.QUEUED, RunStatus.RUNNING) for run in runs)


@require_GET
@admin_only
def index(request, principal):
    runs = list(selectors.runs_for(principal=principal)[:RECENT_RUNS])
    context = {"runs": runs, "polling": _any_unfinished(runs)}
    if request.htmx and request.GET.get("part") == "runs":
        return render(request, "evaluation/index.html#runs-table", context)
    context.update(
        eval_sets=selectors.eval_sets_for(principal=principal),
        set_form=EvalSetForm(),
        run_form=RunStartForm(initial={"k": _current_k(principal)}),
    )
    return render(request, "evaluation/index.html", context)


def _current_k(principal) -> int:
    return organization_retrieval_settings(Organization.objects.get(pk=principal.organization_id))["k"]


@require_POST
@admin_only
def set_create(request, principal):
    form = EvalSetForm(request.POST)
    if form.is_valid():
        try:
            eval_set = services.eval_set_create(principal=principal, **form.cleaned_data)
        except InvalidInput as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Created the set {eval_set.name}.")
            return redirect("evaluation:set_detail", eval_set_id=eval_set.pk)
    else:
        messages.error(request, "Give the set a name.")
    return redirect("evaluation:index")


def _set_page(request, principal, eval_set, *, status=200, **forms):
    runs = list(selectors.runs_for(principal=principal, eval_set=eval_set)[:RECENT_RUNS])
    context = {
        "eval_set": eval_set,
        "questions": selectors.questions_of(eval_set=eval_set),
        "runs": runs,
        "polling": _any_unfinished(runs),
        "question_form": forms.get("question_form") or GoldenQuestionForm(),
        "import_form": forms.get("import_form") or ImportForm(),
        "import_errors": forms.get("import_errors", []),
        "run_form": RunStartForm(initial={"k": _current_k(principal)}),
    }
    return render(request, "evaluation/set_detail.html", context, status=status)


@require_GET
@admin_only
def set_detail(request, principal, eval_set_id):
    eval_set = selectors.get_eval_set(principal=principal, eval_set_id=eval_set_id)
    if request.htmx and request.GET.get("part") == "runs":
        runs = list(selectors.runs_for(principal=principal, eval_set=eval_set)[:RECENT_RUNS])
        context = {"eval_set": eval_set, "runs": runs, "polling": _any_unfinished(runs)}
        return render(request, "evaluation/set_detail.html#runs-table", context)
    return _set_page(request, principal, eval_set)


@require_POST
@admin_only
def question_add(request, principal, eval_set_id):
    eval_set = selectors.get_eval_set(principal=principal, eval_set_id=eval_set_id)
    form = GoldenQuestionForm(request.POST)
    if form.is_valid():
        try:
            services.golden_question_add(
                principal=principal,
                eval_set_id=eval_set.pk,
                question=form.cleaned_data["question"],
                expected_external_ids=form.cleaned_data["expected"],
                expected_passages=form.cleaned_data["passages"],
                earlier_turns=form.cleaned_data["earlier_turns"],
                notes=form.cleaned_data["notes"],
            )
        except InvalidInput as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Question added.")
            return redirect("evaluation:set_detail", eval_set_id=eval_set.pk)
    return _set_page(request, principal, eval_set, status=400, question_form=form)


@require_POST
@admin_only
def question_import(request, principal, eval_set_id):
    eval_set = selectors.get_eval_set(principal=principal, eval_set_id=eval_set_id)
    form = ImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            created = services.golden_questions_import(
                principal=principal, eval_set_id=eval_set.pk, text=form.cleaned_data["content"]
            )
        except GoldenFormatError as exc:
            form.add_error(None, "Nothing was imported: fix these lines and try again.")
            return _set_page(request, principal, eval_set, status=400, import_form=form, import_errors=exc.errors)
        messages.success(request, f"Imported {len(created)} question(s).")
        return redirect("evaluation:set_detail", eval_set_id=eval_set.pk)
    return _set_page(request, principal, eval_set, status=400, import_form=form)


@require_POST
@admin_only
def question_delete(request, principal, eval_set_id, question_id):
    eval_set = selectors.get_eval_set(principal=principal, eval_set_id=eval_set_id)
    if not eval_set.questions.filter(pk=question_id).exists():
        raise Http404("Question not found.")
    services.golden_question_delete(principal=principal, question_id=question_id)
    messages.success(request, "Question deleted.")
    return redirect("evaluation:set_detail", eval_set_id=eval_set.pk)


@require_POST
@admin_only
def run_start(request, principal, eval_set_id):
    eval_set = selectors.get_eval_set(principal=principal, eval_set_id=eval_set_id)
    form = RunStartForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a run kind and a k between 1 and 50.")
        return redirect("evaluation:set_detail", eval_set_id=eval_set.pk)
    try:
        run = services.eval_run_start(
            principal=principal, eval_set_id=eval_set.pk, kind=form.cleaned_data["kind"], k=form.cleaned_data["k"]
        )
    except InvalidInput as exc:
        messages.error(request, exc.message)
        return redirect("evaluation:set_detail", eval_set_id=eval_set.pk)
    return redirect("evaluation:run_detail", run_id=run.pk)


def _metric_rows(run) -> list[dict]:
    rows = []
    for key, label, _ in scoring.METRIC_LABELS:
        if key in run.metrics:
            rows.append({"label": label.replace("@k", f"@{run.k}"), "value": run.metrics[key]})
    return rows


@require_GET
@admin_only
def run_detail(request, principal, run_id):
    run = selectors.get_run(principal=principal, run_id=run_id)
    other_runs = selectors.runs_for(principal=principal).filter(status=RunStatus.DONE).exclude(pk=run.pk)[:50]
    context = {
        **_progress_context(principal, run),
        "results": selectors.results_of(run=run) if run.finished else [],
        "metric_rows": _metric_rows(run),
        "other_runs": other_runs,
        "is_answer_run": run.kind == RunKind.ANSWER,
    }
    return render(request, "evaluation/run_detail.html", context)


def _progress_context(principal, run) -> dict:
    # The run's progress, time running, a lost worker and its Cancel button (templates/jobs/_run_status.html).
    return {"run": run, "run_kind": RUN_KIND, "may_manage": may_manage_run(principal, run)}


@require_GET
@admin_only
def run_progress(request, principal, run_id):
    """The run's progress, polled by its page while it runs. Opened as a page (where the Cancel
    button posted from the polled part leads back to), it is the run's page."""
    run = selectors.get_run(principal=principal, run_id=run_id)
    if not request.htmx:
        return redirect("evaluation:run_detail", run_id=run.pk)
    response = render(request, "evaluation/run_detail.html#progress", _progress_context(principal, run))
    if run.finished:
        # Polling only happens while a page shows an unfinished run: reload it for the results.
        response["HX-Refresh"] = "true"
    return response


def _comparison_context(comparison) -> dict:
    a, b = comparison.a, comparison.b
    rows = [(m.label, m.a, m.b) for m in comparison.metrics]
    return {
        "comparison": comparison,
        "change_groups": [("Better in B", comparison.better), ("Worse in B", comparison.worse)],
        "chart": charts.metric_bars_svg(rows, label_a=f"A: run {a.pk}", label_b=f"B: run {b.pk}"),
    }


@require_GET
@admin_only
def compare(request, principal):
    done = selectors.runs_for(principal=principal).filter(status=RunStatus.DONE)[:100]
    context = {"runs": done, "a_id": request.GET.get("a", ""), "b_id": request.GET.get("b", "")}
    if context["a_id"] and context["b_id"]:
        a = selectors.get_run(principal=principal, run_id=parse_id(context["a_id"]))
        b = selectors.get_run(principal=principal, run_id=parse_id(context["b_id"]))
        if not (a.status == b.status == RunStatus.DONE):
            messages.error(request, "Only finished runs can be compared.")
        else:
            context.update(_comparison_context(selectors.compare_runs(a=a, b=b)))
    return render(request, "evaluation/compare.html", context)


def _settings_rows(current: dict, proposed: dict | None) -> list[dict]:
    return [
        {
            "label": LABELS[key],
            "index_time": key in INDEX_TIME_KEYS,
            "current": current.get(key),
            "proposed": None if proposed is None else proposed.get(key),
            "changed": proposed is not None and proposed.get(key) != current.get(key),
        }
        for key in KNOB_KEYS
    ]


@require_http_methods(["GET", "POST"])
@admin_only
def settings_gate(request, principal):
    organization = Organization.objects.get(pk=principal.organization_id)
    current = organization_retrieval_settings(organization)
    eval_sets = selectors.eval_sets_for(principal=principal).filter(question_count__gt=0)
    status = 200
    if request.method == "POST":
        form = RetrievalSettingsForm(request.POST, eval_sets=eval_sets)
        if form.is_valid():
            try:
                run, _ = services.retrieval_settings_propose(
                    principal=principal, eval_set_id=form.cleaned_data["eval_set"].pk, proposed=form.settings()
                )
            except InvalidInput as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "The golden set is running on the proposed settings.")
                return redirect(f"{reverse('evaluation:settings_gate')}?run={run.pk}")
        status = 400
    else:
        form = RetrievalSettingsForm(initial=current, eval_sets=eval_sets)

    context = {
        "form": form,
        "current": current,
        "settings_rows": _settings_rows(current, None),
        "retrieve_accepts_settings": services.retrieve_accepts_settings(),
    }
    proposed_run_id = request.GET.get("run")
    if proposed_run_id:
        run = selectors.get_run(principal=principal, run_id=parse_id(proposed_run_id))
        baseline = selectors.latest_done_run_on(principal=principal, settings=current, eval_set=run.eval_set)
        baseline_pending = (
            selectors.runs_for(principal=principal, eval_set=run.eval_set)
            .filter(kind=RunKind.RETRIEVAL, settings=current, status__in=[RunStatus.QUEUED, RunStatus.RUNNING])
            .first()
        )
        context.update(
            proposed_run=run,
            run_kind=RUN_KIND,
            may_manage=may_manage_run(principal, run),
            baseline=baseline,
            baseline_pending=baseline_pending,
            settings_rows=_settings_rows(current, run.settings),
            can_apply=run.status == RunStatus.DONE and run.settings_applied and run.settings != current,
            apply_fields=[(key, run.settings[key]) for key in QUERY_TIME_KEYS if key in run.settings],
        )
        if run.status == RunStatus.DONE and baseline is not None:
            context.update(_comparison_context(selectors.compare_runs(a=baseline, b=run)))
        if not form.is_bound:
            context["form"] = RetrievalSettingsForm(
                initial={**run.settings, "eval_set": run.eval_set_id}, eval_sets=eval_sets
            )
    return render(request, "evaluation/settings_gate.html", context, status=status)


@require_POST
@admin_only
def settings_apply(request, principal):
    form = RetrievalSettingsForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The proposed settings are incomplete or out of range.")
        return redirect("evaluation:settings_gate")
    try:
        services.retrieval_settings_apply(principal=principal, settings=form.settings())
    except InvalidInput as exc:
        messages.error(request, exc.message)
        return redirect("evaluation:settings_gate")
    messages.success(request, "The new retrieval settings are live.")
    return redirect("evaluation:settings_gate")


@require_GET
@admin_only
def run_export(request, principal, run_id):
    """The run's per-question rows as JSON lines, for scripts and bug reports."""
    run = selectors.get_run(principal=principal, run_id=run_id)
    lines = [
        json.dumps(
            {
                "question": r.question,
                "earlier_turns": r.earlier_turns,
                "searched_as": r.searched_as,
                "expected": r.expected_external_ids,
                "retrieved": r.retrieved_external_ids,
                "cited": r.cited_external_ids,
                "classification": r.classification,
                "metrics": r.metrics,
            }
        )
        for r in selectors.results_of(run=run)
    ]
    response = HttpResponse("\n".join(lines) + "\n", content_type="application/x-ndjson")
    response["Content-Disposition"] = f'attachment; filename="eval-run-{run.pk}.jsonl"'
    return response
