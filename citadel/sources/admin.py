from django.contrib import admin

from citadel.accounts.admin_base import OrgScopedAdmin, site
from citadel.sources.models import SourceRoot


@admin.register(SourceRoot, site=site)
class SourceRootAdmin(OrgScopedAdmin):
    """The folders the operator opened to each organization's folder sources: read here, changed
    only with `source_root_grant` and `source_root_revoke`, which refuse what must stay closed."""

    read_only = True
    list_display = ["path", "organization", "granted_at"]
    list_filter = ["organization"]
    fields = ["organization", "path", "granted_at"]
    readonly_fields = fields
