"""The pages every kind of run over documents has (citadel.documents.runs): index, start, detail,
its polled part and retry."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_POST

from citadel.accounts.decorators import principal_required
from citadel.accounts.rules import may_manage_run
from citadel.core.errors import CitadelError
from citadel.documents.models import DocumentRun
from citadel.documents.runs import (
    DocumentRunReads,
    document_run_start,
    run_definitions_for,
)
from citadel.documents.selectors import (
    run_choices,
    run_scope,
)
from citadel.jobs.models import OPEN, RETRYABLE
from citadel.jobs.registry import run_kind_of
from citadel.jobs.services import run_retry


class DocumentRunPages:
    """The pages every kind has, in the URL namespace and template folder named after its app:
    the index (`<app>/index.html`: its definitions, the form starting a run, the runs the reader
    may see), starting a run, the run's page (`<app>/detail.html`), the part of it polled while the
    run is open (the partial and path `polled`), and retrying the run. A kind subclasses it with
    its `reads` and what its run's page shows (`context`), and adds its own pages to `urls`."""

    reads: DocumentRunReads
    polled = ""

    def urls(self, *own: URLPattern) -> list[URLPattern]:
        """The kind's URL patterns: these pages, then its own."""
        run = "<int:run_id>"
        return [
            path("", require_GET(principal_required(self.index)), name="index"),
            path("run/", require_POST(principal_required(self.start)), name="start"),
            path(f"{run}/", require_GET(principal_required(self.detail)), name="detail"),
            path(f"{run}/{self.polled}/", require_GET(principal_required(self.polled_part)), name=self.polled),
            path(f"{run}/retry/", require_POST(principal_required(self.retry)), name="retry"),
            *own,
        ]

    def context(self, request, run: DocumentRun) -> dict:
        """What the kind's run page shows beside the run's state."""
        return {}

    @property
    def _app(self) -> str:
        return self.reads.model._meta.app_label

    def _page(self, request, run: DocumentRun) -> dict:
        model = self.reads.model
        may_manage = may_manage_run(request.principal, run)
        return {
            model._meta.model_name: run,
            "status": run.status,
            "polling": run.status in OPEN,
            # The run's progress, time and Cancel button (templates/jobs/_run_status.html).
            "run_kind": run_kind_of(model).name,
            "may_manage": may_manage,
            "may_retry": run.status in RETRYABLE and may_manage,
            **self.context(request, run),
        }

    def index(self, request):
        principal = request.principal
        definition_model = self.reads.model._meta.get_field(self.reads.model.DEFINITION).related_model
        return render(
            request,
            f"{self._app}/index.html",
            {
                "definitions": run_definitions_for(model=definition_model, principal=principal),
                "runs": self.reads.visible(principal)[:50],
                **run_choices(principal),
            },
        )

    def start(self, request):
        model = self.reads.model
        try:
            run = document_run_start(
                model=model,
                principal=request.principal,
                slug=request.POST.get(model.DEFINITION, ""),
                **run_scope(request.POST),
            )
        except CitadelError as exc:
            messages.error(request, exc.message)
            return redirect(f"{self._app}:index")
        return redirect(f"{self._app}:detail", run.pk)

    def detail(self, request, run_id: int):
        run = self.reads.get(principal=request.principal, run_id=run_id)
        return render(request, f"{self._app}/detail.html", self._page(request, run))

    def polled_part(self, request, run_id: int):
        """The polled part alone, which the page swaps in. Opened as a page (where the Cancel
        button posted from it leads back to), it is the run's page, with the same query (an
        extraction's table sorted and filtered the same)."""
        run = self.reads.get(principal=request.principal, run_id=run_id)
        if not request.headers.get("HX-Request"):
            query = request.GET.urlencode()
            return redirect(reverse(f"{self._app}:detail", args=[run.pk]) + (f"?{query}" if query else ""))
        return render(request, f"{self._app}/detail.html#{self.polled}", self._page(request, run))

    def retry(self, request, run_id: int):
        run = self.reads.get(principal=request.principal, run_id=run_id)
        run_retry(model=self.reads.model, principal=request.principal, run_id=run.pk)
        return redirect(f"{self._app}:detail", run.pk)
