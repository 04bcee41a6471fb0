"""The two commands every kind of run over documents has (citadel.documents.runs): saving a
definition from a JSON file, and running it over documents as a user."""

from django.conf import settings
from django.utils.module_loading import import_string

from citadel.accounts.selectors import organization_by_slug, principal_for_username
from citadel.core.commands import JsonCommand, read_json_file
from citadel.documents.models import RunDefinition
from citadel.documents.runs import (
    DocumentRunReads,
    definition_parts_relation,
    document_run_start,
    run_definition_create,
    run_scope_named,
)
from citadel.jobs.registry import run_kind_of


class RunDefinitionCommand(JsonCommand):
    """`manage.py <kind>_create FILE.json --org SLUG [--as USERNAME] [--json]`: define one of the
    kind's definitions (`model`) from FILE, or replace the parts of the one with its slug. Prints
    `<noun>_id`, slug, title and the parts (numbered when `numbered`); as text, a line a part
    (`part_line`, formatted with the part)."""

    model: type[RunDefinition]
    numbered = False
    part_line = ""

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--org", dest="org", required=True, help="Organization slug.")
        parser.add_argument("--as", dest="username", help="The admin defining it (default: the operator).")

    def run(self, *, file, org, username=None, **_):
        organization = organization_by_slug(slug=org)
        data = read_json_file(file)
        principal = principal_for_username(username=username, org_slug=org) if username else None
        definition = run_definition_create(
            model=self.model, organization_id=organization.pk, data=data, principal=principal
        )
        parts = [self.model.part_data(p) for p in definition.parts()]
        return {
            f"{definition_parts_relation(self.model)[1]}_id": definition.pk,
            "slug": definition.slug,
            "title": definition.title,
            self.model.PARTS: [{"n": n, **p} for n, p in enumerate(parts, start=1)] if self.numbered else parts,
        }

    def render_text(self, result) -> str:
        parts = result[self.model.PARTS]
        lines = [f"{result['title']} ({result['slug']}): {len(parts)} {self.model.PARTS}"]
        lines += [self.part_line.format(**part) for part in parts]
        return "\n".join(lines)


class DocumentRunCommand(JsonCommand):
    """`manage.py <command> SLUG --as USERNAME [--org SLUG] [--document EXTERNAL_ID ...] [--team NAME]
    [--label NAME] [--sync] [--json]`: run one of the kind's definitions over documents as a user.
    Without --sync the run is queued for the worker; with it, the kind's task runs here. Prints the
    run as the kind's `reads` give it. `helps`: the kind's words for --team and --sync."""

    reads: DocumentRunReads
    helps: dict[str, str]

    def add_arguments(self, parser):
        parser.add_argument(f"{self.reads.model.DEFINITION}_slug")
        parser.add_argument("--as", dest="username", required=True, help="Username of the runner.")
        parser.add_argument("--org", dest="org", help="Organization slug (needed when the user has several).")
        parser.add_argument(
            "--document", dest="documents", action="append", default=[], help="External id (repeatable)."
        )
        parser.add_argument("--team", help=self.helps["team"])
        parser.add_argument("--label", help="Run over the documents with this label instead.")
        parser.add_argument("--sync", action="store_true", help=self.helps["sync"])

    def run(self, *, username, org=None, documents=(), team=None, label=None, sync=False, **options):
        model = self.reads.model
        principal = principal_for_username(username=username, org_slug=org)
        run = document_run_start(
            model=model,
            principal=principal,
            slug=options[f"{model.DEFINITION}_slug"],
            enqueue=not sync,
            **run_scope_named(principal=principal, documents=documents, team=team, label=label),
        )
        if sync:
            # What the worker would do with it, here.
            import_string(run_kind_of(model).task).call(run.pk)
        run = self.reads.get(principal=principal, run_id=run.pk)
        return self.reads.result(principal=principal, run=run, site_url=settings.CITADEL.get("SITE_URL", ""))
