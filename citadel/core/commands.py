"""Base for Citadel's management commands: `--json` output and clean errors.

A CitadelError becomes a one-line message on stderr and exit status 1 (with --json, a JSON object
{"error": ..., "code": ...} on stdout too, so scripts can parse failures)."""

import json
import sys
from abc import ABCMeta, abstractmethod
from pathlib import Path

from django.core.management.base import BaseCommand

from citadel.core.errors import CitadelError, InvalidInput, NotFound

MAX_JSON_FILE_BYTES = 1_000_000


def read_json_file(file: str):
    """The JSON a command was given a file of (a checklist, a schema); a clear error otherwise."""
    path = Path(file)
    if not path.is_file():
        raise NotFound(f"No file {file}.")
    if path.stat().st_size > MAX_JSON_FILE_BYTES:
        raise InvalidInput(f"{file} is larger than {MAX_JSON_FILE_BYTES // 1000} KB.")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{file} is not JSON: {exc}") from None


class JsonCommand(BaseCommand, metaclass=ABCMeta):
    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument("--json", action="store_true", help="Print JSON.")
        return parser

    def handle(self, *args, **options):
        try:
            result = self.run(**options)
        except CitadelError as exc:
            if options.get("json"):
                self.stdout.write(json.dumps({"error": exc.message, "code": exc.code}))
            self.stderr.write(f"error: {exc.message}")
            sys.exit(1)
        if options.get("json"):
            self.emit_json(result)
        else:
            self.stdout.write(self.render_text(result))

    def emit_json(self, result) -> None:
        self.stdout.write(json.dumps(result, default=str))

    @abstractmethod
    def run(self, **options): ...

    def render_text(self, result) -> str:
        return json.dumps(result, indent=2, default=str)
