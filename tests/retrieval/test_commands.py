import json
from io import StringIO

import pytest
from django.core.management import call_command


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command(*args, "--json", stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


def run_failing(*args):
    from io import StringIO

    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command(*args, "--json", stdout=out, stderr=err)
    assert exit_info.value.code == 1
    return json.loads(out.getvalue())


def test_retrieve_prints_the_contract_fields(acme):
    rows = run("retrieve", "how fast are refunds paid", "--as", "bob", "--k", "3")

    assert rows and len(rows) <= 3
    assert set(rows[0]) == {"chunk_id", "document_id", "external_id", "title", "version", "page", "locator", "score"}
    assert rows[0]["external_id"] == "handbook"


def test_retrieve_never_leaks_across_teams_users_or_organizations(world, acme):
    world.user("bob", "globex")

    acme_rows = run("retrieve", "refunds", "--as", "bob", "--org", "acme", "--k", "50")
    globex_rows = run("retrieve", "refunds", "--as", "bob", "--org", "globex", "--k", "50")

    assert {r["external_id"] for r in acme_rows} == {"handbook"}
    assert {r["external_id"] for r in globex_rows} == {"globex-refunds"}


def test_retrieve_for_an_unknown_user_is_a_clean_error(acme):
    assert run_failing("retrieve", "refunds", "--as", "nobody")["code"] == "not_found"


def test_evaluate_reports_metrics_and_rows(acme, tmp_path):
    golden = tmp_path / "golden.jsonl"
    golden.write_text(
        json.dumps({"question": "how fast are refunds paid", "expected": ["handbook"]})
        + "\n\n"
        + json.dumps({"question": "payroll overtime", "expected": ["payroll"]})
        + "\n"
    )

    result = run("evaluate", str(golden), "--as", "bob", "--k", "5")

    assert set(result) == {"k", "questions", "truncated", "recall@5", "mrr", "ndcg@5", "rows"}
    assert result["k"] == 5 and result["questions"] == 2 and result["truncated"] == 0
    # bob may not read payroll: the second question is a miss, the first a hit at rank 1
    assert [row["recall@5"] for row in result["rows"]] == [1.0, 0.0]
    assert result["recall@5"] == 0.5 and result["mrr"] == 0.5 and result["ndcg@5"] == 0.5
    assert [row["line"] for row in result["rows"]] == [1, 3]


def test_evaluate_searches_a_follow_up_as_its_earlier_turns_make_it(acme, tmp_path):
    """Given a golden follow-up ("and holidays?") after a question on refunds, when it is evaluated,
    then it is searched as the standalone question its earlier turn makes of it, which the row says."""
    golden = tmp_path / "golden.jsonl"
    line = {
        "question": "and holidays?",
        "expected": ["handbook"],
        "earlier_turns": ["How many days are refunds paid in?"],
    }
    golden.write_text(json.dumps(line) + "\n")

    row = run("evaluate", str(golden), "--as", "bob")["rows"][0]

    assert "refunds" in row["searched_as"] and "holidays" in row["searched_as"]
    assert row["recall@10"] == 1.0


def test_evaluate_reads_the_start_of_a_question_longer_than_retrieval_takes_and_says_so(acme, tmp_path):
    """Given a golden line whose question (a whole argument, as standard collections have) runs
    past the 2,000 characters retrieval takes, when it is evaluated, then retrieval reads its
    first words, the row and the summary say it was cut, and the text output carries a note."""
    question = "how fast are refunds paid " + "and why does it matter to the team " * 100
    golden = tmp_path / "golden.jsonl"
    golden.write_text(json.dumps({"question": question, "expected": ["handbook"]}) + "\n")

    result = run("evaluate", str(golden), "--as", "bob")
    text = StringIO()
    call_command("evaluate", str(golden), "--as", "bob", stdout=text)

    assert result["truncated"] == 1 and result["rows"][0]["truncated"] is True
    assert result["rows"][0]["recall@10"] == 1.0
    assert "1 question is longer than 2000 characters" in text.getvalue()


def test_evaluate_names_the_bad_line(acme, tmp_path):
    golden = tmp_path / "golden.jsonl"
    golden.write_text(json.dumps({"question": "refunds", "expected": ["handbook"]}) + "\n{not json\n")

    error = run_failing("evaluate", str(golden), "--as", "bob")

    assert error["code"] == "invalid" and "line 2" in error["error"]


def test_evaluate_a_missing_file_is_a_clean_error(acme, tmp_path):
    assert "No such file" in run_failing("evaluate", str(tmp_path / "missing.jsonl"), "--as", "bob")["error"]
