"""The gaps pages' forms: a date range, and how a gap was handled."""

from datetime import datetime

from django import forms

from citadel.core.dates import date_range
from citadel.core.errors import InvalidInput
from citadel.gaps.services import MAX_NOTE_CHARS


class RangeForm(forms.Form):
    """Days, both included (citadel.core.dates); by default the last 30 days up to today."""

    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        try:
            self.span = date_range(since=data.get("since"), until=data.get("until"))
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from None
        data["since"], data["until"] = self.span.since, self.span.until
        return data

    def bounds(self) -> tuple[datetime, datetime]:
        return self.span.bounds()


class HandleForm(forms.Form):
    note = forms.CharField(required=False, max_length=MAX_NOTE_CHARS, widget=forms.Textarea(attrs={"rows": 3}))
    document = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Document written for it")

    def __init__(self, *args, documents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document"].choices = [("", "None"), *((d.pk, d.title) for d in documents)]
