"""The gaps pages' forms: a date range, and how a gap was handled."""

from datetime import date, datetime, time, timedelta

from django import forms
from django.utils import timezone

from citadel.gaps.services import MAX_NOTE_CHARS

DEFAULT_DAYS = 30
MAX_DAYS = 366


class RangeForm(forms.Form):
    """Days, both included; by default the last 30 days up to today."""

    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        until = data.get("until") or timezone.localdate()
        since = data.get("since") or until - timedelta(days=DEFAULT_DAYS - 1)
        if since > until:
            raise forms.ValidationError("The range must start before it ends.")
        if (until - since).days >= MAX_DAYS:
            raise forms.ValidationError(f"A range covers at most {MAX_DAYS} days.")
        data["since"], data["until"] = since, until
        return data

    def bounds(self) -> tuple[datetime, datetime]:
        """[start of `since`, start of the day after `until`) in the server's time zone."""
        return _start(self.cleaned_data["since"]), _start(self.cleaned_data["until"] + timedelta(days=1))


def _start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class HandleForm(forms.Form):
    note = forms.CharField(required=False, max_length=MAX_NOTE_CHARS, widget=forms.Textarea(attrs={"rows": 3}))
    document = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Document written for it")

    def __init__(self, *args, documents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document"].choices = [("", "None"), *((d.pk, d.title) for d in documents)]
