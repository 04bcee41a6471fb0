"""Filter forms of the audit pages: GET parameters in, selector filters out, clear errors."""

from datetime import timedelta

from django import forms
from django.utils import timezone

from citadel.trail.selectors import EventFilters, PromptLogFilters

_DT_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _is_date_only(value: str) -> bool:
    return len(value.strip()) == 10


class _WindowForm(forms.Form):
    since = forms.DateTimeField(required=False, label="From", widget=_DT_WIDGET)
    until = forms.DateTimeField(required=False, label="To", widget=_DT_WIDGET)

    def clean_until(self):
        until = self.cleaned_data.get("until")
        # "To 2026-11-25" means through the end of that day.
        if until is not None and _is_date_only(self.data.get("until", "")):
            until += timedelta(days=1)
        return until

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since >= until:
            raise forms.ValidationError("“From” must be before “To”.")
        return cleaned


class EventFilterForm(_WindowForm):
    actor = forms.CharField(required=False, max_length=150, label="Actor (username)")
    verb = forms.CharField(required=False, max_length=64, help_text="Exact, or a prefix ending in “.” such as auth.")
    target_type = forms.CharField(required=False, max_length=64, label="Target type")
    target_id = forms.CharField(required=False, max_length=64, label="Target id")

    field_order = ["actor", "verb", "target_type", "target_id", "since", "until"]

    def filters(self) -> EventFilters:
        d = self.cleaned_data
        return EventFilters(
            actor=d["actor"].strip(),
            verb=d["verb"].strip(),
            target_type=d["target_type"].strip(),
            target_id=d["target_id"].strip(),
            since=d["since"],
            until=d["until"],
        )


class PromptLogFilterForm(_WindowForm):
    user = forms.CharField(required=False, max_length=150, label="User")
    feature = forms.CharField(required=False, max_length=40)
    status = forms.CharField(required=False, max_length=20)
    answer = forms.IntegerField(required=False, min_value=1, label="Answer id")

    field_order = ["user", "feature", "status", "answer", "since", "until"]

    def filters(self) -> PromptLogFilters:
        d = self.cleaned_data
        return PromptLogFilters(
            user=d["user"].strip(),
            feature=d["feature"].strip(),
            status=d["status"].strip(),
            answer_id=d["answer"],
            since=d["since"],
            until=d["until"],
        )


class TimelineForm(_WindowForm):
    user = forms.CharField(max_length=150, label="User")
    since = forms.DateTimeField(
        required=False, label="From", widget=_DT_WIDGET, help_text="Default: a day before “To”."
    )
    until = forms.DateTimeField(required=False, label="To", widget=_DT_WIDGET, help_text="Default: now.")

    MAX_WINDOW = timedelta(days=92)
    field_order = ["user", "since", "until"]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        until = cleaned.get("until") or timezone.now()
        since = cleaned.get("since") or until - timedelta(days=1)
        if since >= until:
            raise forms.ValidationError("“From” must be before “To”.")
        if until - since > self.MAX_WINDOW:
            raise forms.ValidationError("Pick a window of at most 92 days.")
        cleaned["since"], cleaned["until"] = since, until
        return cleaned
