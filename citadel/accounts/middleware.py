from citadel.accounts.selectors import memberships_for_user, principal_for
from citadel.core.errors import NotFound

SESSION_ORG_KEY = "citadel_org_id"


class PrincipalMiddleware:
    """Sets request.principal for a logged-in user: their membership in the organization chosen
    in the session, else their first one. None for anonymous users and users with no membership."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.principal = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            request.principal = self._resolve(request, user)
        return self.get_response(request)

    @staticmethod
    def _resolve(request, user):
        org_id = request.session.get(SESSION_ORG_KEY)
        if org_id is not None:
            try:
                return principal_for(user=user, organization=int(org_id))
            except (NotFound, ValueError, TypeError):
                request.session.pop(SESSION_ORG_KEY, None)
        first = memberships_for_user(user=user).first()
        if first is None:
            return None
        # Remembered, so later requests resolve the principal with one query instead of three.
        request.session[SESSION_ORG_KEY] = first.organization_id
        return principal_for(user=user, organization=first.organization_id)
