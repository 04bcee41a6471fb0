"""One vocabulary of states (citadel.core.states), its one partial (templates/partials/state.html
through `{% state %}`), and human dates (`human_time`)."""

import datetime
import re
import zoneinfo
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template
from django.utils import timezone

from citadel.answers.models import AnswerStatus, ReviewOutcome
from citadel.classification.models import LabellingStatus
from citadel.core.states import STATES, TONES, State, state_of
from citadel.core.templatetags.citadel_tags import human_time, human_time_words
from citadel.documents.models import EmbeddingChangeStatus, LabelStatus, VersionStatus
from citadel.evaluation.models import RunStatus as EvaluationStatus
from citadel.extraction.models import ExtractionStatus, ValueStatus
from citadel.jobs.models import RunStatus
from citadel.reports.models import ItemStatus, ReportStatus
from citadel.review.models import ReviewState
from citadel.sources.models import Outcome, SyncStatus
from citadel.summaries.models import SummaryStatus


def _values(*choices) -> set[str]:
    return {str(value) for c in choices for value in c.values}


# Every kind, and every value it may hold: the models' choices, and the states pages show that no
# model stores (written out here, so each one is a decision).
KINDS: dict[str, set[str]] = {
    "answer": _values(AnswerStatus) | {"answering", "interrupted"},
    "review": _values(ReviewState, ReviewOutcome),
    "report": _values(ReportStatus),
    "report_item": _values(ItemStatus) | {"withheld"},
    "extraction": _values(ExtractionStatus),
    "extraction_value": _values(ValueStatus) | {"not_found", "withheld"},
    "summary": _values(SummaryStatus) | {"stale", "none"},
    "sync": _values(SyncStatus),
    "sync_item": _values(Outcome),
    "evaluation": _values(EvaluationStatus),
    "labelling": _values(LabellingStatus),
    "label": _values(LabelStatus),
    "run": _values(RunStatus) | {"lost"},
    "document": _values(VersionStatus),
    "embedding_change": _values(EmbeddingChangeStatus),
    # citadel.audit.models.PromptLog.status, written as strings.
    "model_call": {"ok", "error", "timeout", "cancelled"},
    # What the operations page derives (citadel.ops.selectors).
    "task": {"running", "stuck"},
    "worker": {"alive", "stale"},
    "breaker": {"closed", "open", "half_open", "local", "unknown"},
}

EVERY_STATE = [(kind, value) for kind, values in sorted(KINDS.items()) for value in sorted(values)]


def test_every_value_of_every_kind_has_its_own_words_and_nothing_else_does():
    """Given every model's status choices, then each value has an explicit entry, so a new status
    cannot ship without words, and the vocabulary holds no words for a state that no longer exists."""
    assert set(STATES) == set(KINDS)
    for kind, values in KINDS.items():
        assert set(STATES[kind]) == values, kind


@pytest.mark.parametrize(("kind", "value"), EVERY_STATE)
def test_each_state_is_short_words_a_known_tone_and_one_sentence(kind, value):
    state = state_of(kind, value)

    assert state is STATES[kind][value]
    assert state.tone in TONES
    assert state.label and "_" not in state.label and state.label[0].isupper()
    assert state.sentence.endswith(".") and state.sentence[0].isupper()


def test_every_tone_has_its_colours_in_the_stylesheet():
    css = (Path(settings.BASE_DIR) / "static" / "citadel" / "citadel.css").read_text()
    section = css[css.index("/* states") : css.index("/* end states */")]

    for tone in TONES:
        assert re.search(rf"\.state-{tone} \{{[^}}]*background: #[0-9a-f]{{6}};[^}}]*color: #[0-9a-f]{{6}};", section)


def _render(source: str, **context) -> str:
    return Template("{% load citadel_tags %}" + source).render(Context(context))


def test_every_state_of_every_kind_renders_through_the_one_partial():
    """Given every state of every kind, when each is rendered by `{% state %}`, then each is the
    one badge: its tone's class, its label, its sentence on hover and after it, and never the
    stored value as words."""
    for kind, value in EVERY_STATE:
        state = STATES[kind][value]
        html = _render("{% state kind value sentence=True %}", kind=kind, value=value)

        badge = re.fullmatch(
            r'<span class="badge state state-(\w+) badge-(\w+)" title="([^"]+)">([^<]+)</span> '
            r'<span class="state-sentence">([^<]+)</span>',
            html,
        )
        assert badge, (kind, value, html)
        tone, hook, title, label, sentence = badge.groups()
        escaped = Template("{{ s }}").render(Context({"s": state.sentence}))
        assert (tone, hook, label, title, sentence) == (state.tone, value, state.label, escaped, escaped)


def test_the_badge_alone_keeps_its_sentence_on_hover():
    html = _render('{% state "answer" "pending_review" %}')

    assert html == (
        '<span class="badge state state-warn badge-pending_review" '
        'title="A reviewer must approve this answer before it is shown.">Waiting for review</span>'
    )


def test_an_enum_value_reads_as_its_value():
    assert state_of("report", ReportStatus.NEEDS_REVIEW) == STATES["report"]["needs_review"]
    assert 'badge-needs_review"' in _render('{% state "report" s %}', s=ReportStatus.NEEDS_REVIEW)


def test_a_value_without_words_still_reads_as_words_and_never_breaks_the_page():
    """Given a value nobody wrote words for (or no value), then it is humanised in a quiet tone."""
    assert state_of("report", "needs_second_look") == State("Needs second look", "quiet", "")
    assert state_of("no_such_kind", "pending_review") == State("Pending review", "quiet", "")
    assert state_of("answer", None) == State("Unknown", "quiet", "")
    assert _render('{% state "answer" s %}', s="<b>odd</b>") == (
        '<span class="badge state state-quiet">&lt;b&gt;odd&lt;/b&gt;</span>'
    )


def test_the_words_alone_serve_e_mails_and_sentences():
    text = _render('{% state_of "review" "approved" as s %}{{ s.label }}: {{ s.sentence }}')

    assert text == "Approved: A reviewer approved it."


UTC = datetime.UTC
NOW = datetime.datetime(2026, 12, 7, 14, 40, 5, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(
    ("moment", "short"),
    [
        (datetime.datetime(2026, 12, 7, 14, 32, 9, 123456, tzinfo=UTC), "today 14:32"),
        (datetime.datetime(2026, 12, 7, 0, 0, tzinfo=UTC), "today 00:00"),
        (datetime.datetime(2026, 12, 6, 9, 10, tzinfo=UTC), "yesterday 09:10"),
        (datetime.datetime(2026, 12, 8, 9, 0, tzinfo=UTC), "tomorrow 09:00"),
        (datetime.datetime(2026, 12, 4, 23, 59, tzinfo=UTC), "3 days ago"),
        (datetime.datetime(2026, 12, 1, 8, 0, tzinfo=UTC), "6 days ago"),
        (datetime.datetime(2026, 11, 30, 8, 0, tzinfo=UTC), "30 Nov"),
        (datetime.datetime(2026, 12, 20, 8, 0, tzinfo=UTC), "20 Dec"),
        (datetime.datetime(2025, 3, 12, 8, 0, tzinfo=UTC), "12 Mar 2025"),
        (datetime.date(2026, 12, 6), "yesterday"),
    ],
)
def test_a_moment_reads_as_people_say_it(moment, short):
    assert human_time_words(moment, now=NOW, tz=UTC)[0] == short


def test_the_full_date_and_the_machine_form_carry_no_microseconds():
    moment = datetime.datetime(2026, 12, 7, 14, 32, 9, 123456, tzinfo=UTC)

    assert human_time_words(moment, now=NOW, tz=UTC) == (
        "today 14:32",
        "Monday 7 December 2026, 14:32 UTC",
        "2026-12-07T14:32:09+00:00",
    )
    assert human_time_words(datetime.date(2025, 3, 12), now=NOW, tz=UTC) == (
        "12 Mar 2025",
        "Wednesday 12 March 2025",
        "2025-03-12",
    )


def test_days_are_counted_in_the_readers_time_zone():
    """Given 23:30 UTC on Sunday, then in Paris it is already Monday: "today 00:30" for a reader
    there on Monday, "yesterday 23:30" for one in UTC."""
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    moment = datetime.datetime(2026, 12, 6, 23, 30, tzinfo=UTC)

    assert human_time_words(moment, now=NOW, tz=paris)[:2] == ("today 00:30", "Monday 7 December 2026, 00:30 CET")
    assert human_time_words(moment, now=NOW, tz=UTC)[0] == "yesterday 23:30"


def test_the_filter_writes_a_time_element_from_a_datetime_or_a_receipts_iso_string():
    """Given the receipt's ISO strings (microseconds and all) or a model's datetime, then the page
    shows a <time> with the short words, the full date on hover and the ISO form without
    microseconds; nothing is shown for no date."""
    expected = '<time datetime="2026-12-07T14:32:09+00:00" title="Monday 7 December 2026, 14:32 UTC">today 14:32</time>'
    with timezone.override(UTC):
        assert human_time("2026-12-07T14:32:09.123456+00:00", NOW) == expected
        assert human_time(datetime.datetime(2026, 12, 7, 14, 32, 9, 999, tzinfo=UTC), NOW) == expected
        assert human_time(None) == "" and human_time("") == ""
        assert human_time("<not a date>") == "&lt;not a date&gt;"


def test_the_filter_counts_from_now_in_templates():
    with timezone.override(UTC):
        html = _render("{{ when|human_time }}", when=timezone.now() - datetime.timedelta(days=3))

    assert re.fullmatch(r'<time datetime="[^"]+" title="\w+ \d+ \w+ \d{4}, \d\d:\d\d UTC">3 days ago</time>', html)


def test_full_time_is_the_plain_full_date_for_e_mails():
    with timezone.override(UTC):
        text = _render("{{ when|full_time }}", when=datetime.datetime(2026, 12, 7, 14, 32, tzinfo=UTC))

    assert text == "Monday 7 December 2026, 14:32 UTC"
