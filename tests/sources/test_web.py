"""A website kept in sync, against a real HTTP server on this machine: pages on the same host only,
robots.txt obeyed, ETag and Last-Modified honoured (an unchanged page is a 304, not a download),
and redirect loops, endless calendars and broken pages each ending with a sentence."""

import re

import pytest

from citadel.core.errors import InvalidInput
from citadel.documents.models import Document
from citadel.sources.models import Outcome, SyncOutcome, SyncStatus
from citadel.sources.services import source_create
from tests.sources.syncing import sync as _sync
from tests.web_server import Page, Site, serve

pytestmark = pytest.mark.usefixtures("local_network")


def _html(title: str, text: str, *links: str) -> bytes:
    anchors = "".join(f'<li><a href="{link}">{link}</a></li>' for link in links)
    return f"<html><head><title>{title}</title></head><body><h1>{title}</h1><p>{text}</p><ul>{anchors}</ul></body></html>".encode()


def _calendar(path: str) -> Page | None:
    match = re.fullmatch(r"/calendar/(\d+)/(\d+)", path)
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    following = f"/calendar/{year + month // 12}/{month % 12 + 1}"
    return Page(_html(f"Events {year}-{month}", "No events this month.", following))


def _loop(path: str) -> Page:
    n = int(path.partition("=")[2] or 0)
    return Page(status=302, location=f"/loop?n={n + 1}")


@pytest.fixture
def site():
    site = Site()
    server = serve(site)
    site.pages.update(
        {
            "/robots.txt": Page(b"User-agent: *\nDisallow: /private/\n", "text/plain"),
            "/": Page(
                _html(
                    "Intranet",
                    "Welcome to the intranet.",
                    "/handbook/leave",
                    "/hr/salaries",
                    "/notes.txt",
                    "/private/secret",
                    "/calendar/2026/12",
                    "/loop",
                    "/broken",
                    "/elsewhere",
                    "http://other.example/page",
                    "/logo.png",
                )
            ),
            "/handbook/leave": Page(_html("Leave", "Employees take 25 days of annual leave.", "/"), etag='"leave-1"'),
            "/hr/salaries": Page(_html("Salaries", "Salaries are paid on the 25th.", "/"), last_modified=1_700_000_000),
            "/notes.txt": Page(b"Meeting notes: the canteen moves to the second floor.\n", "text/plain"),
            "/private/secret": Page(_html("Secret", "Do not crawl.")),
            "/broken": Page(status=500),
            "/elsewhere": Page(status=301, location="http://other.example/"),
            "/logo.png": Page(b"\x89PNG\r\n\x1a\n", "image/png"),
        }
    )
    site.dynamic.update({"/calendar/": _calendar, "/loop": _loop})
    yield site
    server.shutdown()
    server.server_close()


@pytest.fixture
def people(world):
    org = world.org("acme")
    return {"admin": world.principal("ada", org, role="admin"), "hr": world.principal("hana", org, teams=["HR"])}


def _source(admin, site, **config):
    return source_create(
        principal=admin,
        kind="web",
        name="Intranet",
        config={"start_url": site.url + "/", "permissions": [{"match": "hr/**", "teams": ["HR"]}], **config},
    )


def _failures(sync) -> dict[str, str]:
    return dict(SyncOutcome.objects.filter(sync=sync, outcome=Outcome.FAILED).values_list("key", "error"))


def test_a_site_is_read_on_its_own_host_as_robots_txt_allows_with_each_trap_ending_in_a_sentence(people, site):
    source = _source(people["admin"], site)

    sync = _sync(people["admin"], source)

    assert sync.status == SyncStatus.DONE
    keys = set(Document.objects.values_list("external_id", flat=True))
    assert {"Intranet/index", "Intranet/handbook/leave", "Intranet/hr/salaries", "Intranet/notes.txt"} <= keys
    assert Document.objects.get(external_id="Intranet/handbook/leave").title == "Leave"
    assert [g.team.name for g in Document.objects.get(external_id="Intranet/hr/salaries").grants.all()] == ["HR"]
    assert not any("private" in key or "logo" in key for key in keys)
    assert not any(r.path.startswith("/private") for r in site.requests)
    assert not any("other.example" in r.path for r in site.requests)
    failures = _failures(sync)
    assert "redirects more than 5 times" in failures["loop"]
    assert failures["broken"] == "the site answered 500 Internal Server Error"
    assert "another site" in failures["elsewhere"]
    # The calendar goes on for ever; the crawl stops three links from the start and says so.
    assert sum(key.startswith("Intranet/calendar/") for key in keys) == 3
    assert "deeper than 3 links from the start" in failures["calendar/2027/3"]


def test_the_next_sync_asks_what_changed_and_downloads_only_that(people, site):
    source = _source(people["admin"], site)
    _sync(people["admin"], source)
    site.requests.clear()

    site.pages["/hr/salaries"] = Page(
        _html("Salaries", "Salaries are paid on the 28th.", "/"), last_modified=1_800_000_000
    )
    del site.pages["/notes.txt"]
    second = _sync(people["admin"], source)

    leave = [r for r in site.requests if r.path == "/handbook/leave"]
    assert leave[0].headers["If-None-Match"] == '"leave-1"' and leave[0].status == 304
    assert (second.updated, second.archived) == (1, 1)
    salaries = Document.objects.get(external_id="Intranet/hr/salaries")
    assert "28th" in salaries.current_version.chunks.get().text
    assert Document.objects.get(external_id="Intranet/notes.txt").archived_at is not None
    assert second.unchanged >= 2


def test_a_page_that_fails_to_load_keeps_its_document(people, site):
    source = _source(people["admin"], site)
    _sync(people["admin"], source)

    site.pages["/handbook/leave"] = Page(status=503)
    second = _sync(people["admin"], source)

    assert "503" in _failures(second)["handbook/leave"]
    assert Document.objects.get(external_id="Intranet/handbook/leave").archived_at is None


def test_a_sitemap_gives_the_pages_to_start_from(people, site):
    site.pages["/sitemap.xml"] = Page(
        f"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
        <sitemap><loc>{site.url}/pages.xml</loc></sitemap></sitemapindex>""".encode(),
        "application/xml",
    )
    site.pages["/pages.xml"] = Page(
        f"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
        <url><loc>{site.url}/handbook/leave</loc></url><url><loc>{site.url}/notes.txt</loc></url>
        <url><loc>http://other.example/page</loc></url></urlset>""".encode(),
        "application/xml",
    )

    source = _source(people["admin"], site, start_url="", sitemap_url=site.url + "/sitemap.xml", max_depth=0)
    sync = _sync(people["admin"], source)

    assert sorted(Document.objects.values_list("external_id", flat=True)) == [
        "Intranet/handbook/leave",
        "Intranet/notes.txt",
    ]
    assert "deeper than 0 links" in _failures(sync)["index"]


def test_the_page_limit_ends_the_crawl_with_a_sentence(people, site):
    source = _source(people["admin"], site, max_pages=2)

    sync = _sync(people["admin"], source)

    assert sync.added == 2
    assert any("the limit of 2 pages was reached" in error for error in _failures(sync).values())


def test_a_site_that_cannot_be_reached_is_refused_when_the_source_is_added(people):
    with pytest.raises(InvalidInput, match="cannot be reached"):
        source_create(principal=people["admin"], kind="web", name="Gone", config={"start_url": "http://127.0.0.1:9/"})


def test_a_start_page_that_fails_fails_the_sync_and_archives_nothing(people, site):
    source = _source(people["admin"], site)
    _sync(people["admin"], source)

    site.pages["/"] = Page(status=502)
    sync = _sync(people["admin"], source)

    assert sync.status == SyncStatus.FAILED and "could not be loaded" in sync.error_message
    assert not Document.objects.filter(archived_at__isnull=False).exists()
