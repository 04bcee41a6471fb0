"""Gunicorn's access log as JSON lines (`logger_class` in deploy/gunicorn.conf.py).

gunicorn's own format strings cannot escape a quote in a user agent, so the line is built with
json.dumps. The path is logged without its query string: search terms and questions travel there.
The request id is the one RequestContextMiddleware put on the response, so this line and the
application's lines for the same request join on it."""

import json
from datetime import UTC, datetime

from gunicorn.glogging import Logger


class JsonAccessLogger(Logger):
    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        headers = dict((k.lower(), v) for k, v in (resp.headers or []))
        line = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": "info",
            "logger": "gunicorn.access",
            "event": "http.access",
            "request_id": headers.get("x-request-id", ""),
            "remote_addr": environ.get("REMOTE_ADDR", ""),
            "method": environ.get("REQUEST_METHOD", ""),
            "path": (environ.get("PATH_INFO") or "")[:200],
            "status": int(str(resp.status).split(None, 1)[0]),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "user_agent": (environ.get("HTTP_USER_AGENT") or "")[:200],
        }
        try:
            self.access_log.info(json.dumps(line))
        except Exception:  # noqa: BLE001 - gunicorn's own handler does the same: never fail a response over a log line
            self.exception("access log failed")
