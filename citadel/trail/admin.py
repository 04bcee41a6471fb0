"""Read-only admin views of the audit trail and prompt logs, scoped to the admin's organization.

A superuser's reads of organizations they do not administer are recorded as `audit.read` events in
those organizations' chains, as on the audit browser."""

import json

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.utils.html import format_html

from citadel.accounts.admin_base import OrgScopedAdmin, site
from citadel.accounts.models import Membership, Organization
from citadel.audit.models import AuditEvent, PromptLog
from citadel.audit.services import audit_read_record
from citadel.core.principal import Role
from citadel.trail.selectors import audit_metadata_shown, prompt_log_content


def _record_superuser_reads(request, org_ids, what: str) -> None:
    if not request.user.is_superuser:
        return
    administered = set(
        Membership.objects.filter(user=request.user, role=Role.ADMIN).values_list("organization_id", flat=True)
    )
    for org_id in sorted(i for i in set(org_ids) if i is not None and i not in administered):
        audit_read_record(
            actor=request.user, organization_id=org_id, what=what, params={"path": request.get_full_path()}
        )


class AuditedReadAdmin(OrgScopedAdmin):
    read_only = True
    audit_what = ""

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            _record_superuser_reads(request, (obj.organization_id for obj in changelist.result_list), self.audit_what)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        obj = self.get_object(request, unquote(object_id)) if response.status_code == 200 else None
        if obj is not None:
            _record_superuser_reads(request, [obj.organization_id], self.audit_what)
        return response


@admin.register(AuditEvent, site=site)
class AuditEventAdmin(AuditedReadAdmin):
    audit_what = "admin.audit_events"
    list_display = ["created_at", "verb", "actor_label", "target_type", "target_id", "organization_id"]
    list_filter = ["created_at"]
    search_fields = ["verb", "actor_label", "target_id"]
    date_hierarchy = "created_at"
    fields = [
        "created_at",
        "organization_id",
        "actor_id",
        "actor_label",
        "verb",
        "target_type",
        "target_id",
        "metadata_json",
        "prev_hash",
        "hash",
    ]
    readonly_fields = fields

    @admin.display(description="metadata")
    def metadata_json(self, obj: AuditEvent) -> str:
        principal, user_id = self.viewer(obj)
        [(_, metadata)] = audit_metadata_shown([obj], principal=principal, user_id=user_id)
        return format_html("<pre>{}</pre>", json.dumps(metadata, indent=2, sort_keys=True, ensure_ascii=False))


@admin.register(PromptLog, site=site)
class PromptLogAdmin(AuditedReadAdmin):
    audit_what = "admin.prompt_logs"
    list_display = ["started_at", "feature", "provider", "model", "user", "status", "latency_ms", "content_mode"]
    list_filter = ["status", "feature", "content_mode"]
    list_select_related = ["user"]
    search_fields = ["user__username", "model"]
    date_hierarchy = "started_at"
    fields = [
        "organization",
        "user",
        "answer",
        "feature",
        "provider",
        "model",
        "started_at",
        "finished_at",
        "latency_ms",
        "status",
        "error_class",
        "tokens_in",
        "tokens_out",
        "cost_usd",
        "retrieved_document_ids",
        "retrieved_chunk_ids",
        "cited_chunk_ids",
        "content_mode",
        "content_purged_at",
        "content_note",
        "visible_prompt",
        "visible_output",
    ]
    readonly_fields = fields

    def _content(self, obj: PromptLog):
        # The stored text is never rendered directly: the organization's current policy and the
        # viewer's own access to the documents in the prompt decide.
        cache = getattr(obj, "_visible_content", None)
        if cache is None:
            principal, user_id = self.viewer(obj)
            organization = Organization.objects.get(pk=obj.organization_id)
            cache = obj._visible_content = prompt_log_content(
                log=obj, organization=organization, principal=principal, user_id=user_id
            )
        return cache

    @admin.display(description="content")
    def content_note(self, obj: PromptLog) -> str:
        return self._content(obj).note

    @admin.display(description="prompt")
    def visible_prompt(self, obj: PromptLog) -> str:
        content = self._content(obj)
        return format_html("<pre>{}</pre>", content.prompt) if content.shown else "—"

    @admin.display(description="output")
    def visible_output(self, obj: PromptLog) -> str:
        content = self._content(obj)
        return format_html("<pre>{}</pre>", content.output) if content.shown else "—"
