from functools import wraps

from django.shortcuts import render


def principal_required(view):
    """Pages for members of an organization: a signed-in user with no membership gets the 403 page
    that says so. Domain errors the view lets through become pages in citadel.core.middleware."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.principal is None:
            return render(request, "accounts/no_membership.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper
