from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from citadel.accounts.middleware import SESSION_ORG_KEY
from citadel.accounts.selectors import memberships_for_user
from citadel.core.ids import parse_id
from citadel.core.ratelimit import client_ip, limit_login


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        # Counted before the password is checked, so guessing costs attempts whether or not it
        # succeeds; LimitExceeded becomes the 429 page (citadel.core.middleware).
        limit_login(username=request.POST.get("username", ""), ip=client_ip(request))
        return super().post(request, *args, **kwargs)


@require_POST
def switch_organization(request):
    wanted = parse_id(request.POST.get("organization"))
    membership = memberships_for_user(user=request.user).filter(organization_id=wanted).first() if wanted else None
    if membership is None:
        messages.error(request, "You are not a member of that organization.")
    else:
        request.session[SESSION_ORG_KEY] = membership.organization_id
        messages.success(request, f"Now working in {membership.organization.name}.")
    return redirect("home")
