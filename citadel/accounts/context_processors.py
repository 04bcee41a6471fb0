from django.utils.functional import SimpleLazyObject

from citadel.accounts.selectors import memberships_for_user


def principal(request):
    p = getattr(request, "principal", None)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        # Lazy: only base.html's organization switcher reads it, so htmx partials (an answer card
        # per ask) no longer pay a memberships query they never show.
        memberships = SimpleLazyObject(lambda: list(memberships_for_user(user=user)))
    else:
        memberships = []
    return {"principal": p, "my_memberships": memberships}
