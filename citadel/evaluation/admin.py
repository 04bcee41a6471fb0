from django import forms
from django.contrib import admin

from citadel.accounts.admin_base import OrgScopedAdmin, site
from citadel.core.errors import InvalidInput
from citadel.evaluation.golden import golden_item_from_dict
from citadel.evaluation.models import EvalResult, EvalRun, EvalSet, GoldenQuestion


@admin.register(EvalSet, site=site)
class EvalSetAdmin(OrgScopedAdmin):
    list_display = ["name", "organization", "created_at"]
    search_fields = ["name"]
    exclude = ["organization"]


class GoldenQuestionAdminForm(forms.ModelForm):
    class Meta:
        model = GoldenQuestion
        fields = ["eval_set", "question", "earlier_turns", "expected_external_ids", "expected_passages", "notes"]

    def clean(self):
        data = super().clean()
        try:
            item = golden_item_from_dict(
                {
                    "question": data.get("question", ""),
                    "expected": data.get("expected_external_ids") or [],
                    "passages": data.get("expected_passages") or [],
                    "notes": data.get("notes", ""),
                    "earlier_turns": data.get("earlier_turns") or [],
                }
            )
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from None
        data.update(
            question=item.question,
            expected_external_ids=item.expected,
            expected_passages=item.passages,
            earlier_turns=item.earlier_turns,
            notes=item.notes,
        )
        return data


@admin.register(GoldenQuestion, site=site)
class GoldenQuestionAdmin(OrgScopedAdmin):
    org_path = "eval_set__organization"
    form = GoldenQuestionAdminForm
    list_display = ["question", "eval_set", "source", "created_at"]
    list_filter = ["source"]
    search_fields = ["question"]


@admin.register(EvalRun, site=site)
class EvalRunAdmin(OrgScopedAdmin):
    # Runs are measurements: they are made by the run task, never edited.
    read_only = True
    list_display = ["id", "eval_set", "kind", "k", "status", "done", "total", "created_at"]
    list_filter = ["kind", "status"]


@admin.register(EvalResult, site=site)
class EvalResultAdmin(OrgScopedAdmin):
    org_path = "run__organization"
    read_only = True
    list_display = ["run", "question", "classification"]
    list_filter = ["classification"]
