from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from citadel.accounts.decorators import principal_required
from citadel.jobs.registry import run_kind
from citadel.jobs.services import run_cancel, run_retry


def _back(request):
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = "home"
    return redirect(back)


@require_POST
@principal_required
def cancel(request, kind: str, run_id: int):
    """Cancel a run from its page, as who started it or an admin; back to the page it came from."""
    run_cancel(model=run_kind(kind).model, principal=request.principal, run_id=run_id)
    return _back(request)


@require_POST
@principal_required
def retry(request, kind: str, run_id: int):
    """Queue a failed or cancelled run again from its page, as who started it or an admin."""
    run_retry(model=run_kind(kind).model, principal=request.principal, run_id=run_id)
    return _back(request)
