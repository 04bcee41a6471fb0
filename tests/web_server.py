"""A real HTTP server on 127.0.0.1 serving a small website that a test edits as it goes:
`site.pages[path] = Page(...)`, with ETags and Last-Modified answered as a web server does (304 to
a matching conditional request), redirects, errors, and every request kept in `site.requests`."""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Page:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    etag: str = ""
    last_modified: float | None = None  # seconds since the epoch
    location: str = ""  # for redirects


@dataclass
class Request:
    path: str
    headers: dict
    status: int


@dataclass
class Site:
    url: str = ""
    pages: dict[str, Page] = field(default_factory=dict)
    # Paths answered by a function (an endless calendar): path prefix -> f(path) -> Page | None.
    dynamic: dict[str, Callable[[str], Page | None]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)

    def page(self, path: str) -> Page | None:
        if path in self.pages:
            return self.pages[path]
        for prefix, make in self.dynamic.items():
            if path.startswith(prefix):
                return make(path)
        return None


def serve(site: Site) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            page = site.page(self.path)
            status = 404 if page is None else page.status
            headers = {}
            if page is not None and status == 200:
                if page.etag:
                    headers["ETag"] = page.etag
                if page.last_modified is not None:
                    headers["Last-Modified"] = formatdate(page.last_modified, usegmt=True)
                if _not_modified(self.headers, page):
                    status = 304
            if page is not None and page.location:
                headers["Location"] = page.location
            site.requests.append(Request(self.path, dict(self.headers), status))
            body = page.body if page is not None and status == 200 else b""
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if status == 200:
                self.send_header("Content-Type", page.content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    site.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _not_modified(headers, page: Page) -> bool:
    if page.etag and headers.get("If-None-Match"):
        return headers["If-None-Match"] == page.etag
    since = headers.get("If-Modified-Since")
    if since and page.last_modified is not None:
        return int(page.last_modified) <= parsedate_to_datetime(since).timestamp()
    return False
