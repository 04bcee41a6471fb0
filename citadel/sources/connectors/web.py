"""A website, read from a start page or a sitemap, the way a polite crawler reads it.

Settings: `start_url`, or `sitemap_url` (its pages are where the crawl starts; a sitemap index is
followed), `max_depth` (links followed from a starting page: 3 unless set, at most 10) and
`max_pages` (500 unless set, at most 20,000). Only pages on the start's host are read, at addresses
the operator lets sources reach (`reach`, checked on every connection); robots.txt is obeyed, and
each page's ETag and Last-Modified are sent back, so an unchanged page costs a 304 and no download.
Redirects are followed on the same host, at most 5 in a row. A page's key is its path with its
query (`handbook/leave?lang=en`), so permission rules match paths (`hr/**`).

An endless calendar ends at the depth or page limit, a redirect loop at the fifth redirect, each
with a failed outcome saying so. A page that fails to load keeps its document; a page that is gone
(404, 410) is archived."""

import tempfile
import time
from collections import deque
from collections.abc import Iterator, Mapping
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib import robotparser
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.etree
import lxml.html
import requests
from django.conf import settings

from citadel.sources.connectors.base import ConnectorError, Item, Known, Skipped
from citadel.sources.connectors.reach import Reach

USER_AGENT = "CitadelBot/1.0 (+https://github.com/citadel; document sync)"
MAX_REDIRECTS = 5
MAX_LINKS_PER_PAGE = 2000
MAX_SITEMAPS = 50
# What Citadel can read, and the file name ending a page without one gets.
TYPES = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "text/markdown": ".md",
    "text/csv": ".csv",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
}


# (Spelled here: inside the class, `list` is the listing method.)
_Urls = list[str]
_Visit = tuple[Item | None, _Urls, str]


class _Failed(Exception):
    """A page that could not be loaded this time: its document is kept."""


class WebConnector:
    secrets = ()
    concurrent_reads = 1

    def __init__(self, config: dict, reach: Reach):
        self.start_url = str(config.get("start_url") or "").strip()
        self.sitemap_url = str(config.get("sitemap_url") or "").strip()
        if not self.start_url and not self.sitemap_url:
            raise ConnectorError("A website source needs a start URL or a sitemap URL.")
        hosts = set()
        for url in filter(None, (self.start_url, self.sitemap_url)):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConnectorError(f"{url} is not an http or https address.")
            hosts.add((parts.scheme, parts.netloc.lower()))
        if len(hosts) > 1:
            raise ConnectorError("The start page and the sitemap must be on the same site.")
        self.scheme, self.host = hosts.pop()
        for url in filter(None, (self.start_url, self.sitemap_url)):
            reach.url(url)
        self.max_depth = _limit(config, "max_depth", 3, 10)
        self.max_pages = _limit(config, "max_pages", 500, 20_000)
        self.max_bytes = settings.CITADEL["MAX_UPLOAD_BYTES"]
        # Every request, redirects included, connects through the reach's check.
        self.session = reach.http_session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.spool = tempfile.TemporaryDirectory(prefix="citadel-web-")
        self.spooled: dict[str, Path] = {}  # the pages read while listing, by key
        self.robots = self._robots()

    # --- listing ---------------------------------------------------------------------------------

    def list(self, known: Mapping[str, Known]) -> Iterator[Item | Skipped]:
        seeds = self._sitemap_pages() if self.sitemap_url else [self.start_url]
        queue = deque((url, 0) for url in seeds)
        seen = {self.key(url) for url in seeds}
        pages, too_deep = 0, []
        while queue:
            url, depth = queue.popleft()
            if pages >= self.max_pages:
                more = f" and {len(queue)} more" if queue else ""
                yield Skipped(self.key(url), f"the limit of {self.max_pages} pages was reached: it{more} were not read")
                break
            try:
                visited = self._visit(url, known)
            except _Failed as exc:
                if pages == 0 and not self.sitemap_url:
                    raise ConnectorError(f"The start page {url} could not be loaded ({exc}).") from None
                yield Skipped(self.key(url), str(exc))
                pages += 1
                continue
            if visited is None:
                continue
            pages += 1
            item, links, final_key = visited
            if final_key != self.key(url) and final_key in seen:
                continue
            seen.add(final_key)
            if item is not None:
                yield item
            for link in links:
                link_key = self.key(link)
                if link_key in seen:
                    continue
                seen.add(link_key)
                if depth + 1 > self.max_depth:
                    too_deep.append(link_key)
                else:
                    queue.append((link, depth + 1))
        if too_deep:
            yield Skipped(
                too_deep[0],
                f"deeper than {self.max_depth} links from the start: it and {len(too_deep) - 1} more links were not "
                "followed",
            )

    def _visit(self, url: str, known: Mapping[str, Known]) -> _Visit | None:
        """A page's item (None for a page of a kind Citadel does not read), its links and its key
        after redirects; None when the page is gone or robots.txt keeps crawlers out."""
        for _ in range(MAX_REDIRECTS + 1):
            if not self._ours(url):
                raise _Failed("it redirects to another site, which is not followed")
            if not self.robots.can_fetch(USER_AGENT, url):
                return None
            key = self.key(url)
            before = known.get(key)
            response = self._get(url, headers=_validators(before))
            if response.is_redirect:
                response.close()
                url = urldefrag(urljoin(url, response.headers["Location"]))[0]
                continue
            with response:
                if response.status_code == 304 and before is not None:
                    item = Item(
                        key, before.size, before.modified, before.tag, before.memo.get("name", ""), memo=before.memo
                    )
                    return (item if before.memo.get("type") else None), before.memo.get("links", []), key
                if (
                    response.status_code in (404, 410)
                    or 400 <= response.status_code < 500
                    and response.status_code not in (401, 403, 429)
                ):
                    return None
                if response.status_code != 200:
                    raise _Failed(f"the site answered {response.status_code} {response.reason}")
                return self._page(url, key, response)
        raise _Failed(f"it redirects more than {MAX_REDIRECTS} times in a row")

    def _page(self, url: str, key: str, response: requests.Response) -> _Visit:
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type not in TYPES:
            return None, [], key
        body = self._body(response)
        html = TYPES[content_type] == ".html"
        links, index = _links(body, url) if html else ([], True)
        links = [link for link in links if self._ours(link)][:MAX_LINKS_PER_PAGE]
        last_modified = response.headers.get("Last-Modified", "")
        memo = {
            "type": content_type,
            "name": _name(url, TYPES[content_type]),
            "links": links,
            "etag": response.headers.get("ETag", ""),
            "last_modified": last_modified,
        }
        if not index:
            return None, links, key
        path = Path(self.spool.name) / str(len(self.spooled))
        path.write_bytes(body)
        self.spooled[key] = path
        # Without validators the page's time is now: it is read again, and its content compared.
        modified = _timestamp(last_modified) if last_modified else time.time()
        item = Item(key, len(body), modified, memo["etag"], memo["name"], memo=memo)
        return item, links, key

    def _body(self, response: requests.Response) -> bytes:
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            raise _Failed(f"it is larger than the {self.max_bytes // (1024 * 1024)} MB limit")
        chunks, total = [], 0
        try:
            for chunk in response.iter_content(64 * 1024):
                total += len(chunk)
                if total > self.max_bytes:
                    raise _Failed(f"it is larger than the {self.max_bytes // (1024 * 1024)} MB limit")
                chunks.append(chunk)
        except requests.RequestException as exc:
            raise _Failed(f"it could not be loaded ({type(exc).__name__})") from None
        return b"".join(chunks)

    def _get(self, url: str, headers: dict | None = None) -> requests.Response:
        delay = self.robots.crawl_delay(USER_AGENT)
        if delay:
            time.sleep(min(float(delay), 10.0))
        try:
            return self.session.get(url, headers=headers, allow_redirects=False, stream=True, timeout=(10, 30))
        except requests.RequestException as exc:
            raise _Failed(f"it could not be loaded ({type(exc).__name__})") from None

    # --- robots.txt and sitemaps -----------------------------------------------------------------

    def _robots(self) -> robotparser.RobotFileParser:
        """A site whose robots.txt is missing allows everything; one that cannot be read is not crawled."""
        parser = robotparser.RobotFileParser()
        url = f"{self.scheme}://{self.host}/robots.txt"
        try:
            response = self.session.get(url, timeout=(10, 30))
        except requests.RequestException as exc:
            raise ConnectorError(f"The site {self.host} cannot be reached ({type(exc).__name__}).") from None
        if response.status_code >= 500:
            raise ConnectorError(f"The site's robots.txt answered {response.status_code}; it is not crawled.")
        parser.parse(response.text.splitlines() if response.status_code == 200 else [])
        return parser

    def _sitemap_pages(self) -> _Urls:
        pages, sitemaps, read = [], deque([self.sitemap_url]), 0
        while sitemaps and read < MAX_SITEMAPS and len(pages) < self.max_pages * 2:
            url = sitemaps.popleft()
            read += 1
            try:
                response = self._get(url)
                body = self._body(response) if response.status_code == 200 else b""
            except _Failed as exc:
                raise ConnectorError(f"The sitemap {url} could not be loaded ({exc}).") from None
            if not body:
                raise ConnectorError(f"The sitemap {url} could not be loaded ({response.status_code}).")
            try:
                root = lxml.etree.fromstring(body, parser=_XML)
            except lxml.etree.XMLSyntaxError:
                raise ConnectorError(f"The sitemap {url} is not a sitemap (it is not XML).") from None
            locations = [loc.text.strip() for loc in root.iter("{*}loc") if loc.text]
            if root.tag.endswith("sitemapindex"):
                sitemaps.extend(loc for loc in locations if self._ours(loc))
            else:
                pages.extend(urldefrag(loc)[0] for loc in locations if self._ours(loc))
        return list(dict.fromkeys(pages))

    # --- reading ---------------------------------------------------------------------------------

    def read(self, key: str, *, max_bytes: int) -> bytes:
        path = self.spooled.get(key)
        if path is None:
            raise ValueError("it was not loaded while the site was read")
        if path.stat().st_size > max_bytes:
            raise ValueError(f"it is larger than the {max_bytes // (1024 * 1024)} MB limit")
        return path.read_bytes()

    def close(self) -> None:
        self.session.close()
        self.spool.cleanup()

    def key(self, url: str) -> str:
        parts = urlsplit(url)
        key = parts.path.lstrip("/") or "index"
        return f"{key}?{parts.query}" if parts.query else key

    def _ours(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and parts.netloc.lower() == self.host


_XML = lxml.etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _limit(config: dict, name: str, default: int, most: int) -> int:
    value = config.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= most:
        raise ConnectorError(f'"{name}" is a whole number from 0 to {most}.')
    return value


def _validators(before: Known | None) -> dict:
    if before is None or not before.memo.get("type"):
        return {}
    headers = {}
    if before.memo.get("etag"):
        headers["If-None-Match"] = before.memo["etag"]
    if before.memo.get("last_modified"):
        headers["If-Modified-Since"] = before.memo["last_modified"]
    return headers


def _links(body: bytes, url: str) -> tuple[list[str], bool]:
    """The page's links, absolute and without fragments, and whether it asks to be indexed
    (`<meta name="robots" content="noindex">`; "nofollow" drops its links)."""
    try:
        document = lxml.html.document_fromstring(body, base_url=url)
    except (lxml.etree.ParserError, ValueError):
        return [], True
    robots = " ".join(document.xpath('//meta[@name="robots"]/@content')).lower()
    if "nofollow" in robots:
        return [], "noindex" not in robots
    document.make_links_absolute(url, handle_failures="discard")
    links = [urldefrag(href)[0] for href in document.xpath("//a/@href")]
    return list(dict.fromkeys(links)), "noindex" not in robots


def _name(url: str, extension: str) -> str:
    name = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1] or "index"
    return name if name.lower().endswith(extension) else f"{name}{extension}"


def _timestamp(value: str) -> float:
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return time.time()
