from citadel.accounts.selectors import memberships_for_user


def principal(request):
    p = getattr(request, "principal", None)
    user = getattr(request, "user", None)
    memberships = list(memberships_for_user(user=user)) if user is not None and user.is_authenticated else []
    return {"principal": p, "my_memberships": memberships}
