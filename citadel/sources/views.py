"""The Sources page (admins): each source's last and next sync, counts, what failed and why,
"sync now" and pause."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from citadel.accounts.decorators import principal_required
from citadel.accounts.rules import may_manage_run, require_role
from citadel.core.errors import InvalidInput
from citadel.core.principal import Role
from citadel.documents.access import get_readable_document
from citadel.sources import selectors, services
from citadel.sources.models import DefaultAudience, SourceKind

# The syncs' name among the kinds of run (citadel.sources.apps).
RUN_KIND = "source_syncs"


def _admin(request):
    return require_role(request.principal, Role.ADMIN, "Sources are for admins.")


# The form's fields each kind reads; the rest are left out of its configuration.
KIND_FIELDS = {
    SourceKind.FOLDER: ("path", "permissions_from"),
    SourceKind.S3: ("bucket", "prefix", "endpoint_url", "region", "access_key_id", "secret_access_key"),
    SourceKind.IMAP: ("host", "port", "security", "username", "password", "folders", "permissions_from"),
    SourceKind.WEB: ("start_url", "sitemap_url", "max_depth", "max_pages"),
}


class SourceForm(forms.Form):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=SourceKind.choices)
    path = forms.CharField(required=False, max_length=1000, help_text="A folder: its path on the workers' machines.")
    bucket = forms.CharField(required=False, max_length=255, help_text="An S3 bucket, with its key prefix below.")
    prefix = forms.CharField(required=False, max_length=1000)
    endpoint_url = forms.CharField(required=False, max_length=500, label="Endpoint URL")
    region = forms.CharField(required=False, max_length=50)
    access_key_id = forms.CharField(
        required=False, max_length=200, label="Access key ID", help_text="Empty: the workers' own credentials."
    )
    secret_access_key = forms.CharField(required=False, max_length=200, widget=forms.PasswordInput)
    host = forms.CharField(required=False, max_length=255, help_text="A mailbox: its IMAP server.")
    port = forms.IntegerField(required=False, min_value=1, max_value=65535, help_text="993 with TLS, 143 otherwise.")
    security = forms.ChoiceField(
        required=False,
        choices=[("tls", "TLS"), ("starttls", "STARTTLS"), ("none", "None (a server on this machine only)")],
    )
    username = forms.CharField(required=False, max_length=255)
    password = forms.CharField(
        required=False, max_length=500, widget=forms.PasswordInput, help_text="Kept sealed; never shown again."
    )
    folders = forms.CharField(required=False, max_length=1000, help_text="Mail folders, comma-separated: INBOX.")
    start_url = forms.CharField(required=False, max_length=1000, label="Start URL", help_text="A website.")
    sitemap_url = forms.CharField(required=False, max_length=1000, label="or sitemap URL")
    max_depth = forms.IntegerField(required=False, min_value=0, max_value=10, help_text="Links from the start: 3.")
    max_pages = forms.IntegerField(required=False, min_value=1, max_value=20000, help_text="Pages at most: 500.")
    permissions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "legal/** = Legal"}),
        help_text="One rule a line: a pattern, then = and the teams (or @users) who may read what matches. "
        "The first match wins.",
    )
    permissions_from = forms.ChoiceField(
        required=False,
        label="Then the source's own permissions",
        choices=[
            ("", "none"),
            ("owner_group", "a folder's files: their owner and group"),
            ("acl", "a mailbox's folders: their access lists"),
        ],
    )
    default_audience = forms.ChoiceField(choices=DefaultAudience.choices, label="Everything else is readable by")
    sync_every_minutes = forms.IntegerField(required=False, min_value=5, max_value=43200)

    def config(self) -> dict:
        data = self.cleaned_data
        config = {key: data[key] for key in KIND_FIELDS[data["kind"]] if data.get(key) not in (None, "")}
        if "folders" in config:
            config["folders"] = [f.strip() for f in config["folders"].split(",") if f.strip()]
        rules = []
        for line in data["permissions"].splitlines():
            if not line.strip():
                continue
            match, _, readers = line.partition("=")
            names = [n.strip() for n in readers.split(",") if n.strip()]
            rules.append(
                {
                    "match": match.strip(),
                    "teams": [n for n in names if not n.startswith("@")],
                    "users": [n[1:] for n in names if n.startswith("@")],
                }
            )
        config.update(permissions=rules, default_audience=data["default_audience"])
        if data.get("sync_every_minutes"):
            config["sync_every_minutes"] = data["sync_every_minutes"]
        return config


@require_http_methods(["GET", "POST"])
@principal_required
def index(request):
    principal = _admin(request)
    form = SourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            source = services.source_create(
                principal=principal,
                kind=form.cleaned_data["kind"],
                name=form.cleaned_data["name"],
                config=form.config(),
            )
        except InvalidInput as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Added {source.name}; sync it to bring its documents in.")
            return redirect("sources:detail", source.pk)
    return render(
        request,
        "sources/index.html",
        {
            "sources": selectors.source_overviews(principal=principal),
            "roots": selectors.source_roots(organization_id=principal.organization_id),
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@require_GET
@principal_required
def detail(request, source_id: int):
    principal = _admin(request)
    source = selectors.get_source(principal=principal, source_id=source_id)
    syncs = list(selectors.sync_history(source=source))
    for sync in syncs:
        # Each sync's progress, time running, a lost worker and its Cancel button (templates/jobs/_run_status.html).
        sync.may_manage = may_manage_run(principal, sync)
    return render(
        request,
        "sources/detail.html",
        {"overview": selectors.source_overview(source), "syncs": syncs, "run_kind": RUN_KIND},
    )


@require_POST
@principal_required
def sync_now(request, source_id: int):
    principal = _admin(request)
    sync = services.source_sync_start(principal=principal, source_id=source_id)
    messages.success(request, f"Sync {sync.pk} is {sync.status}.")
    return redirect("sources:detail", source_id)


@require_POST
@principal_required
def pause(request, source_id: int):
    principal = _admin(request)
    source = services.source_pause(principal=principal, source_id=source_id, paused=request.POST.get("paused") == "yes")
    messages.success(request, f"{source.name} is {'paused' if source.paused else 'synced on its schedule again'}.")
    return redirect("sources:detail", source_id)


@require_GET
@principal_required
def origin(request, document_id: int):
    """Where a document came from (a partial on its page): nothing when it was uploaded."""
    document = get_readable_document(request.principal, document_id)
    item = selectors.document_origin(document=document)
    return render(request, "sources/_origin.html", {"item": item})
