import json

from django.contrib import admin, messages
from django.utils.html import format_html

from citadel.accounts.admin_base import OrgScopedAdmin, site
from citadel.accounts.selectors import principal_for
from citadel.core.errors import CitadelError, NotFound
from citadel.documents.access import WITHHELD_NOTE, content_view
from citadel.documents.models import AccessGrant, Document, DocumentVersion
from citadel.documents.services import document_archive, version_retry


def _principal(request, organization_id: int):
    """The acting principal for an admin action on a row of `organization_id` (a superuser
    acting in another organization needs a membership there too, so the audit names a member)."""
    principal = getattr(request, "principal", None)
    if principal is not None and principal.organization_id == organization_id:
        return principal
    try:
        return principal_for(user=request.user, organization=organization_id)
    except NotFound:
        return None


class AccessGrantInline(admin.TabularInline):
    model = AccessGrant
    extra = 0
    fields = ["scope", "team", "user", "created_at"]
    readonly_fields = ["scope", "team", "user", "created_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        # Grants change through access_grant/access_revoke so each change is audited.
        return False


class VersionInline(admin.TabularInline):
    model = DocumentVersion
    extra = 0
    fields = ["number", "status", "original_filename", "size_bytes", "chunks_total", "error_class", "created_at"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Document, site=site)
class DocumentAdmin(OrgScopedAdmin):
    list_display = ["title", "external_id", "organization", "current_version", "archived_at", "updated_at"]
    list_filter = ["archived_at"]
    search_fields = ["title", "external_id"]
    fields = ["organization", "external_id", "title", "sensitive", "current_version", "archived_at", "created_by"]
    readonly_fields = ["organization", "external_id", "current_version", "archived_at", "created_by"]
    inlines = [VersionInline, AccessGrantInline]
    actions = ["archive_documents"]
    audited_fields = ("title", "sensitive")

    def has_add_permission(self, request) -> bool:
        return False  # documents arrive through upload, which runs the pipeline

    def save_model(self, request, obj, form, change):
        if "title" in form.changed_data:
            obj.title_set_by_person = True  # an admin's title outlives new versions, as a rename's does
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deletion goes through document_delete (files, vectors, audit)

    @admin.action(description="Archive selected documents (unretrievable at once)")
    def archive_documents(self, request, queryset):
        done = 0
        for document in queryset.filter(archived_at__isnull=True):
            principal = _principal(request, document.organization_id)
            if principal is None:
                continue
            try:
                document_archive(principal=principal, document=document)
                done += 1
            except CitadelError as exc:
                self.message_user(request, f"{document}: {exc.message}", messages.ERROR)
        self.message_user(request, f"Archived {done} document(s).", messages.SUCCESS)


@admin.register(DocumentVersion, site=site)
class DocumentVersionAdmin(OrgScopedAdmin):
    org_path = "document__organization"
    list_display = [
        "document",
        "number",
        "status",
        "error_class",
        "chunks_done",
        "chunks_total",
        "attempts",
        "created_at",
    ]
    list_filter = ["status", "error_class"]
    search_fields = ["document__title", "document__external_id", "sha256"]
    exclude = ["text", "metadata"]
    readonly_fields = [
        "document", "number", "file", "original_filename", "sha256", "size_bytes", "content_type", "status",
        "error_class", "error_message", "attempts", "lease_expires_at", "chunks_total", "chunks_done",
        "readable_metadata", "upload", "attachments_left_out", "notice", "created_by", "created_at",
        "status_changed_at", "ready_at",
    ]  # fmt: skip
    actions = ["retry_versions", "archive_documents"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("text")

    @admin.display(description="metadata")
    def readable_metadata(self, obj: DocumentVersion) -> str:
        # What the parser recorded is read from the file (an email's sender and recipients), so it
        # is shown as the document's text is: an admin manages every document, reads only some.
        principal, user_id = self.viewer(obj)
        content = content_view(
            document_ids=[obj.document_id],
            principal=principal,
            user_id=user_id,
            organization_id=obj.document.organization_id,
        )
        if not content.complete:
            return WITHHELD_NOTE
        return format_html("<pre>{}</pre>", json.dumps(obj.metadata, indent=2, sort_keys=True, ensure_ascii=False))

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Retry selected failed versions")
    def retry_versions(self, request, queryset):
        done = 0
        for version in queryset.filter(status="failed").select_related("document"):
            principal = _principal(request, version.document.organization_id)
            if principal is None:
                continue
            try:
                version_retry(principal=principal, version=version)
                done += 1
            except CitadelError as exc:
                self.message_user(request, f"{version}: {exc.message}", messages.ERROR)
        self.message_user(request, f"Queued {done} version(s) again.", messages.SUCCESS)

    @admin.action(description="Archive the documents of selected versions")
    def archive_documents(self, request, queryset):
        documents = Document.objects.filter(pk__in=queryset.values("document_id"), archived_at__isnull=True)
        DocumentAdmin.archive_documents(self, request, documents)
