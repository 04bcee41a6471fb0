"""Document pages: list, detail (with live pipeline state), upload, retry, archive, download, and
the inspection of a version (how it was read, its chunks).

Single documents are loaded through access.py, so another organization's document (or one the
principal may not see) is a 404 exactly like a missing one."""

import re

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from citadel.accounts.decorators import principal_required
from citadel.accounts.rules import may_archive_document, may_manage_document, may_rename_document
from citadel.core.errors import CitadelError, InvalidInput, LimitExceeded, PermissionDenied
from citadel.core.ratelimit import limit_action
from citadel.documents import selectors
from citadel.documents.access import get_downloadable_version, get_manageable_document
from citadel.documents.models import LOW_OCR_CONFIDENCE, DocumentVersion
from citadel.documents.services import (
    document_archive,
    document_rename,
    document_upload,
    documents_freshness_set,
    version_retry,
)

MAX_FILES_PER_UPLOAD = 20


@require_GET
@principal_required
def document_list(request):
    documents = list(selectors.document_list(request.principal)[:200])
    rows = [(d, selectors.latest_version(d)) for d in documents]
    context = {"rows": rows, "polling": selectors.in_progress(v for _, v in rows)}
    if request.htmx:
        return render(request, "documents/list.html#rows", context)
    return render(request, "documents/list.html", context)


@require_GET
@principal_required
def document_detail(request, document_id: int):
    document = selectors.document_detail(request.principal, document_id)
    return render(request, "documents/detail.html", _detail_context(request, document))


@require_GET
@principal_required
def document_status(request, document_id: int):
    document = selectors.document_detail(request.principal, document_id)
    return render(request, "documents/detail.html#status", _detail_context(request, document))


def _detail_context(request, document) -> dict:
    versions = document.version_list
    principal = request.principal
    return {
        "document": document,
        "versions": versions,
        "latest": versions[0] if versions else None,
        "polling": selectors.in_progress(versions[:1]),
        "can_manage": may_manage_document(principal, document),
        "can_archive": may_archive_document(principal, document),
        "can_rename": may_rename_document(principal, document),
        "can_read": selectors.content_readable(principal, document),
        "attachments": [
            (attachment, selectors.latest_version(attachment))
            for attachment in selectors.document_attachments(principal, document)
        ],
    }


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if not files:
            raise forms.ValidationError("Choose at least one file.")
        if len(files) > MAX_FILES_PER_UPLOAD:
            raise forms.ValidationError(f"Upload at most {MAX_FILES_PER_UPLOAD} files at once.")
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class OwnerField(forms.ChoiceField):
    """A member or a team of the organization, chosen from one list ("user:3", "team:2"); cleaned
    to the User or the Team, or None."""

    def __init__(self, *, principal, empty_label: str, **kwargs):
        teams, users = selectors.audience_choices(principal)
        self._teams, self._users = {t.pk: t for t in teams}, {u.pk: u for u in users}
        choices = [
            ("", empty_label),
            ("People", [(f"user:{pk}", u.username) for pk, u in self._users.items()]),
            ("Teams", [(f"team:{pk}", t.name) for pk, t in self._teams.items()]),
        ]
        super().__init__(choices=choices, required=False, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        kind, _, pk = value.partition(":")
        return (self._users if kind == "user" else self._teams)[int(pk)]


class UploadForm(forms.Form):
    files = MultipleFileField(label="Files")
    teams = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple, label="Only these teams"
    )
    users = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple, label="Only these people"
    )
    review_by = forms.DateField(
        required=False, label="Review by", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, principal, **kwargs):
        super().__init__(*args, **kwargs)
        teams, users = selectors.audience_choices(principal)
        self.fields["teams"].queryset = teams
        self.fields["users"].queryset = users
        self.fields["users"].label_from_instance = lambda u: u.username
        self.fields["owner"] = OwnerField(principal=principal, empty_label="Nobody", label="Owner")


class FreshnessForm(forms.Form):
    """What the documents page sets on the chosen documents: an owner and/or a review-by date."""

    documents = forms.TypedMultipleChoiceField(coerce=int, label="Documents")
    review_by = forms.DateField(
        required=False, label="Review by", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    clear_owner = forms.BooleanField(required=False, label="Remove their owner")
    clear_review = forms.BooleanField(required=False, label="Remove their review-by date")

    def __init__(self, *args, principal, document_ids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["documents"].choices = [(pk, pk) for pk in document_ids]
        self.fields["owner"] = OwnerField(principal=principal, empty_label="Leave as it is", label="Owner")


@require_http_methods(["GET", "POST"])
@principal_required
def upload(request):
    bound = request.method == "POST"
    form = UploadForm(request.POST if bound else None, request.FILES if bound else None, principal=request.principal)
    if request.method == "POST" and form.is_valid():
        added, unchanged, refused = [], [], []
        files = form.cleaned_data["files"]
        for index, uploaded in enumerate(files):
            # Each file counts against the upload limits, as one upload through the API does: past
            # them the rest of the files are refused, and a request with none allowed is a 429.
            try:
                limit_action("upload", request.principal)
            except LimitExceeded as exc:
                if not index:
                    raise
                refused.append(f"Not uploaded: {', '.join(f.name for f in files[index:])}. {exc.message}")
                break
            try:
                result = document_upload(
                    principal=request.principal,
                    file=uploaded,
                    filename=uploaded.name,
                    teams=list(form.cleaned_data["teams"]),
                    users=list(form.cleaned_data["users"]),
                    owner=form.cleaned_data["owner"],
                    review_by=form.cleaned_data["review_by"],
                )
            except CitadelError as exc:
                refused.append(f"{uploaded.name}: {exc.message}")
                continue
            (added if result.created else unchanged).append(result.document.title)
        if added:
            messages.success(request, f"Processing {len(added)} file(s): {', '.join(added)}.")
        if unchanged:
            messages.info(request, f"Already up to date (same file): {', '.join(unchanged)}.")
        for message in refused:
            messages.error(request, message)
        return redirect("documents:list")
    return render(request, "documents/upload.html", {"form": form}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@principal_required
def freshness(request):
    """Set the owner and/or the review-by date of many documents at once: the documents the
    principal may manage (an admin's: all of the organization's; a member's: their uploads)."""
    documents = selectors.documents_for_freshness(request.principal)
    form = FreshnessForm(
        request.POST if request.method == "POST" else None,
        principal=request.principal,
        document_ids=[d.pk for d in documents],
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            changed = documents_freshness_set(
                principal=request.principal,
                document_ids=data["documents"],
                owner=data["owner"],
                review_by=data["review_by"],
                clear_owner=data["clear_owner"],
                clear_review=data["clear_review"],
            )
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.message) from None
        except CitadelError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Changed {changed} of {len(data['documents'])} document(s).")
            return redirect("documents:freshness")
    return render(
        request,
        "documents/freshness.html",
        {"form": form, "documents": documents},
        status=400 if form.errors else 200,
    )


@require_POST
@principal_required
def retry(request, document_id: int, number: int):
    document = get_manageable_document(request.principal, document_id)
    version = DocumentVersion.objects.filter(document=document, number=number).first()
    if version is None:
        raise Http404("Version not found.")
    try:
        version_retry(principal=request.principal, version=version)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from None
    except CitadelError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Version {number} is queued again.")
    return redirect("documents:detail", document_id=document.pk)


@require_POST
@principal_required
def rename(request, document_id: int):
    """A new title for the document (its uploader or an admin); its external id stays."""
    try:
        document = document_rename(
            principal=request.principal, document_id=document_id, title=request.POST.get("title", "")
        )
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from None
    except InvalidInput as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Renamed: {document.title}.")
    return redirect("documents:detail", document_id=document_id)


@require_POST
@principal_required
def archive(request, document_id: int):
    document = get_manageable_document(request.principal, document_id)
    try:
        document_archive(principal=request.principal, document=document)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from None
    except CitadelError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{document.title} is archived: it no longer appears in answers or search.")
    return redirect("documents:detail", document_id=document.pk)


CHUNKS_PER_PAGE = 100


@require_GET
@principal_required
def inspect(request, document_id: int, number: int):
    """How the pipeline read one version: the parser's notes and every chunk with its boundaries,
    so an admin can see why a passage was or was not found."""
    version, notes, chunks = selectors.version_inspection(
        principal=request.principal, document_id=document_id, number=number
    )
    page = Paginator(chunks, CHUNKS_PER_PAGE).get_page(request.GET.get("page"))
    text_pages, ocr_pages = selectors.version_ocr_pages(version=version)
    return render(
        request,
        "documents/inspect.html",
        {
            "document": version.document,
            "version": version,
            "notes": notes,
            "chunks": page,
            "text_pages": text_pages,
            "ocr_pages": ocr_pages,
            "low_confidence": LOW_OCR_CONFIDENCE,
        },
    )


@require_GET
@principal_required
def extracted_text(request, document_id: int, number: int):
    """The version's whole extracted text, as plain text (never rendered as HTML)."""
    version, _, _ = selectors.version_inspection(principal=request.principal, document_id=document_id, number=number)
    response = HttpResponse(version.text, content_type="text/plain; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response


_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_download_name(name: str) -> str:
    cleaned = _UNSAFE_FILENAME.sub("_", name).strip(" .") or "document"
    return cleaned[:150]


@require_GET
@principal_required
def download(request, document_id: int, number: int):
    version = get_downloadable_version(request.principal, document_id, number)
    response = FileResponse(
        version.file.open("rb"),
        as_attachment=True,
        filename=safe_download_name(version.original_filename),
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Even opened directly, the file runs no script and reaches nothing of ours.
    response["Content-Security-Policy"] = "sandbox"
    return response
