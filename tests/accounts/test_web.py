import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from citadel.accounts.middleware import SESSION_ORG_KEY

# int() reads Arabic-Indic digits as it reads ASCII ones.
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
# Probes and the Prometheus scraper cannot log in (/metrics takes an optional bearer token).
PUBLIC = {"login", "healthz", "readyz", "metrics"}


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def _concrete(route: str) -> str:
    import re

    route = re.sub(r"<(?:int:|uuid:)?(\w+)>", "1", route)
    route = re.sub(r"<(?:slug:|str:|path:)(\w+)>", "x", route)
    return "/" + route.lstrip("^").rstrip("$").replace("\\Z", "")


def test_every_page_but_login_requires_login(client, db):
    """Walks the whole URL conf: an anonymous request never gets content."""
    checked = 0
    for route, pattern in _walk(get_resolver().url_patterns):
        if pattern.name in PUBLIC or route.startswith("api/") or route.startswith("admin/"):
            continue
        url = _concrete(route)
        response = client.get(url)
        assert response.status_code in (302, 404, 405), (url, response.status_code)
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("login")) or "/admin/login/" in response["Location"], url
        checked += 1
    assert checked >= 2


def test_admin_pages_redirect_anonymous_to_login(client, db):
    response = client.get("/admin/")
    assert response.status_code == 302


def test_login_and_logout(client, world):
    world.user("ann", "acme")
    response = client.post(reverse("login"), {"username": "ann", "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_wrong_password_is_refused(client, world):
    world.user("ann", "acme")
    response = client.post(reverse("login"), {"username": "ann", "password": "nope"})
    assert response.status_code == 200
    assert b"didn&#x27;t match" in response.content or b"didn't match" in response.content


def test_user_switches_between_their_organizations_only(login, world):
    user = world.user("sam", "acme")
    world.user("sam", "globex")
    other = world.org("initech")
    client = login(user)

    client.post(reverse("switch_organization"), {"organization": world.org("globex").pk})
    assert client.session[SESSION_ORG_KEY] == world.org("globex").pk
    assert b"globex" in client.get(reverse("home")).content

    client.post(reverse("switch_organization"), {"organization": other.pk})
    assert client.session[SESSION_ORG_KEY] == world.org("globex").pk


@pytest.mark.parametrize(
    "spell", [lambda pk: str(pk).translate(ARABIC_INDIC), lambda pk: f"{pk}²"], ids=["arabic-indic", "superscript"]
)
def test_an_organization_id_written_in_other_digits_is_not_switched_to(login, world, spell):
    # Given Sam, a member of acme and of globex, working in one of them
    user = world.user("sam", "acme")
    world.user("sam", "globex")
    client = login(user)
    client.get(reverse("home"))
    working_in = client.session[SESSION_ORG_KEY]
    other = world.org("globex" if working_in == world.org("acme").pk else "acme").pk

    # When Sam asks for the other one by an id that int() reads but nobody typed as an id
    response = client.post(reverse("switch_organization"), {"organization": spell(other)}, follow=True)

    # Then there is no such membership, and Sam stays where Sam was
    assert "You are not a member of that organization." in response.content.decode()
    assert client.session[SESSION_ORG_KEY] == working_in


def test_user_without_membership_sees_nothing(login, db):
    from django.contrib.auth import get_user_model

    lonely = get_user_model().objects.create_user("lonely", password="x")
    response = login(lonely).get(reverse("home"))
    assert response.status_code == 403


@pytest.mark.parametrize("path", ["/", "/login/"])
def test_pages_carry_a_strict_csp_with_nonce(client, world, path):
    client.force_login(world.user("ann", "acme"))
    response = client.get(path, follow=True)
    csp = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
