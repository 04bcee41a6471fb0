"""Comparing two runs: metric deltas, questions that got better or worse, and the chart."""

import pytest

from citadel.accounts.models import Membership
from citadel.evaluation.charts import metric_bars_svg
from citadel.evaluation.selectors import compare_runs
from citadel.evaluation.services import eval_run_start


def _run(principal, eval_set, capture):
    with capture(execute=True):
        run = eval_run_start(principal=principal, eval_set_id=eval_set.pk, k=3)
    run.refresh_from_db()
    return run


def test_a_run_that_finds_more_is_better_on_the_right_question(acme, world, django_capture_on_commit_callbacks):
    org, admin, eval_set = acme
    before = _run(admin, eval_set, django_capture_on_commit_callbacks)
    # The admin joins the payroll team: the next run may read the payroll document.
    Membership.objects.get(user_id=admin.user_id, organization=org).teams.add(org.teams.get(name="payroll"))
    after = _run(admin, eval_set, django_capture_on_commit_callbacks)

    comparison = compare_runs(a=before, b=after)

    recall = next(m for m in comparison.metrics if m.key == "recall@k")
    assert recall.a == pytest.approx(2 / 3, abs=1e-4)
    assert recall.b == 1.0
    assert recall.delta == pytest.approx(1 / 3, abs=1e-3)
    assert recall.verdict == "better"
    assert [c.question for c in comparison.better] == ["What is the salary band of engineers?"]
    assert comparison.worse == []
    assert comparison.unchanged == 2

    reverse = compare_runs(a=after, b=before)
    assert [c.question for c in reverse.worse] == ["What is the salary band of engineers?"]
    assert next(m for m in reverse.metrics if m.key == "recall@k").verdict == "worse"


def test_a_lower_abstention_rate_counts_as_better():
    from citadel.evaluation.selectors import MetricDelta

    delta = MetricDelta(key="abstention_rate", label="Abstention", a=0.5, b=0.25, higher_is_better=False)

    assert delta.delta == -0.25
    assert delta.verdict == "better"


def test_the_chart_escapes_every_text_and_scales_bars():
    svg = metric_bars_svg([("<script>alert(1)</script>", 0.5, 1.0)], label_a='A "x"', label_b="B & C")

    assert svg.startswith("<svg")
    assert "<script" not in svg
    assert "&lt;script&gt;" in svg
    assert "B &amp; C" in svg
    assert 'width="130.0"' in svg and 'width="260.0"' in svg  # half and full bar
