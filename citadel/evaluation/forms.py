from django import forms

from citadel.evaluation.golden import MAX_QUESTION_CHARS
from citadel.evaluation.models import RunKind
from citadel.evaluation.retrieval_settings import KNOBS, QUERY_TIME_KEYS

MAX_IMPORT_BYTES = 2 * 1024 * 1024


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").replace(",", "\n").splitlines() if line.strip()]


class EvalSetForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000)


class GoldenQuestionForm(forms.Form):
    question = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=MAX_QUESTION_CHARS)
    expected = forms.CharField(
        label="Expected documents (external ids, one per line or comma-separated; none for a question the documents cannot answer)",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    passages = forms.CharField(
        label="Expected passages (optional: one snippet per line; judges by passage instead of document)",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    earlier_turns = forms.CharField(
        label="Earlier turns (optional, for a follow-up: the questions asked before it in its thread, one per line, "
        "oldest first)",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000)

    def clean_earlier_turns(self) -> list[str]:
        value = self.cleaned_data.get("earlier_turns", "")
        return [line.strip() for line in value.splitlines() if line.strip()]

    def clean_expected(self) -> list[str]:
        return _lines(self.cleaned_data.get("expected", ""))

    def clean_passages(self) -> list[str]:
        value = self.cleaned_data.get("passages", "")
        return [line.strip() for line in value.splitlines() if line.strip()]


class ImportForm(forms.Form):
    file = forms.FileField(label="JSON-lines file", required=False)
    text = forms.CharField(label="…or paste JSON lines", widget=forms.Textarea(attrs={"rows": 4}), required=False)

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload is not None:
            if upload.size > MAX_IMPORT_BYTES:
                raise forms.ValidationError(f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB.")
            data["content"] = upload.read()
        elif data.get("text", "").strip():
            data["content"] = data["text"]
        else:
            raise forms.ValidationError("Choose a file or paste JSON lines.")
        return data


class RunStartForm(forms.Form):
    kind = forms.ChoiceField(choices=RunKind.choices, initial=RunKind.RETRIEVAL)
    k = forms.IntegerField(min_value=1, max_value=50, initial=10)


class RetrievalSettingsForm(forms.Form):
    """The knobs a run can measure. Range checks are repeated by the service, which is the one
    that counts."""

    def __init__(self, *args, eval_sets=None, **kwargs):
        super().__init__(*args, **kwargs)
        for knob in KNOBS:
            if knob.key not in QUERY_TIME_KEYS:
                continue
            field_class = forms.IntegerField if knob.kind is int else forms.FloatField
            self.fields[knob.key] = field_class(
                label=knob.label, help_text=knob.help, min_value=knob.low, max_value=knob.high
            )
        if eval_sets is not None:
            self.fields["eval_set"] = forms.ModelChoiceField(queryset=eval_sets, label="Golden set to run")

    def settings(self) -> dict:
        return {key: value for key, value in self.cleaned_data.items() if key != "eval_set"}
