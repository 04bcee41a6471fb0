"""The golden-set file format shared by the web import and the `evaluate` command."""

import json

import pytest

from citadel.core.errors import NotFound, PermissionDenied
from citadel.evaluation.golden import GoldenFormatError, parse_golden_jsonl
from citadel.evaluation.models import EvalSet, GoldenQuestion
from citadel.evaluation.services import eval_set_create, golden_questions_import

GOOD = "\n".join(
    [
        json.dumps({"question": "How long do refunds take?", "expected": ["refunds"]}),
        "",
        json.dumps({"question": "  Who approves   travel? ", "expected": ["travel", "travel", "policy"], "notes": "x"}),
        json.dumps({"question": "Quote?", "expected": [], "passages": ["within 14 days"]}),
        json.dumps(
            {"question": "and abroad?", "expected": ["travel"], "earlier_turns": ["Meal  allowance?", "x?", "x?"]}
        ),
    ]
)


def test_a_good_file_parses_with_line_numbers_and_clean_values():
    items = parse_golden_jsonl(GOOD)

    assert [i.line for i in items] == [1, 3, 4, 5]
    assert items[1].question == "Who approves travel?"
    assert items[1].expected == ["travel", "policy"]
    assert items[1].notes == "x"
    assert items[2].passages == ["within 14 days"]
    assert items[0].earlier_turns == []
    # A follow-up's earlier turns keep their order and repeats: they are a conversation, not a set.
    assert items[3].earlier_turns == ["Meal allowance?", "x?", "x?"]


def test_bytes_with_a_bom_parse_like_text():
    assert len(parse_golden_jsonl(("\ufeff" + GOOD).encode())) == 4


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not valid JSON"),
        ('["a list"]', "must be a JSON object"),
        ('{"expected": ["a"]}', '"question" must be a non-empty string'),
        ('{"question": "q"}', '"expected" is missing'),
        ('{"question": "q", "expected": "doc"}', '"expected" must be a list of strings'),
        ('{"question": "q", "expected": [1]}', "non-empty strings"),
        ('{"question": "q", "expected": ["a"], "passages": "x"}', '"passages" must be a list of strings'),
        ('{"question": "q", "expected": ["a"], "notes": 3}', '"notes" must be a string'),
        ('{"question": "q", "expected": ["a"], "earlier_turns": "q0"}', '"earlier_turns" must be a list'),
        ('{"question": "q", "expected": ["a"], "earlier_turns": [" "]}', '"earlier_turns" must be a list'),
        (json.dumps({"question": "q", "expected": ["a"], "earlier_turns": ["q"] * 11}), "more than 10"),
    ],
)
def test_each_kind_of_bad_line_is_named_with_its_number(line, message):
    text = json.dumps({"question": "fine", "expected": ["a"]}) + "\n" + line + "\n"

    with pytest.raises(GoldenFormatError) as caught:
        parse_golden_jsonl(text)

    assert len(caught.value.errors) == 1
    number, text_of_error = caught.value.errors[0]
    assert number == 2
    assert message in text_of_error
    assert "line 2" in caught.value.message


def test_every_bad_line_is_reported_not_only_the_first():
    text = "\n".join(["{", json.dumps({"question": "ok", "expected": ["a"]}), "[]", '{"question": ""}'])

    with pytest.raises(GoldenFormatError) as caught:
        parse_golden_jsonl(text)

    assert [n for n, _ in caught.value.errors] == [1, 3, 4]


def test_an_empty_expected_list_marks_an_unanswerable_question():
    (item,) = parse_golden_jsonl('{"question": "What is the CEO\'s shoe size?", "expected": []}')

    assert item.expected == [] and item.passages == []


def test_standard_collections_with_over_a_hundred_relevant_documents_parse_up_to_a_thousand():
    """CISI and Cranfield have queries with more than 100 relevant documents."""
    many = [f"doc-{n}" for n in range(1000)]
    items = parse_golden_jsonl(json.dumps({"question": "q", "expected": many}))
    assert items[0].expected == many

    with pytest.raises(GoldenFormatError, match="more than 1000"):
        parse_golden_jsonl(json.dumps({"question": "q", "expected": [*many, "one-too-many"]}))


def test_an_empty_file_and_invalid_utf8_are_errors():
    with pytest.raises(GoldenFormatError, match="no questions"):
        parse_golden_jsonl("\n\n")
    with pytest.raises(GoldenFormatError, match="line 2: is not valid UTF-8"):
        parse_golden_jsonl(b'{"question": "a", "expected": ["b"]}\n\xff\xfe')


def test_import_with_one_bad_line_imports_nothing(world):
    admin = world.principal("ada", "acme", role="admin")
    eval_set = eval_set_create(principal=admin, name="Support")
    text = GOOD + "\n" + '{"question": "broken", "expected": "not-a-list"}\n'

    with pytest.raises(GoldenFormatError) as caught:
        golden_questions_import(principal=admin, eval_set_id=eval_set.pk, text=text)

    assert caught.value.errors == [(6, '"expected" must be a list of strings')]
    assert GoldenQuestion.objects.filter(eval_set=eval_set).count() == 0


def test_import_of_a_good_file_adds_every_question_as_imported(world):
    admin = world.principal("ada", "acme", role="admin")
    eval_set = eval_set_create(principal=admin, name="Support")

    created = golden_questions_import(principal=admin, eval_set_id=eval_set.pk, text=GOOD)

    assert len(created) == 4
    assert set(GoldenQuestion.objects.filter(eval_set=eval_set).values_list("source", flat=True)) == {"import"}
    assert GoldenQuestion.objects.get(question="and abroad?").earlier_turns == ["Meal allowance?", "x?", "x?"]


def test_only_admins_import_and_only_into_their_own_organization(world):
    admin = world.principal("ada", "acme", role="admin")
    member = world.principal("mo", "acme", role="member")
    other_admin = world.principal("oz", "globex", role="admin")
    eval_set = eval_set_create(principal=admin, name="Support")

    with pytest.raises(PermissionDenied):
        golden_questions_import(principal=member, eval_set_id=eval_set.pk, text=GOOD)
    with pytest.raises(NotFound):
        golden_questions_import(principal=other_admin, eval_set_id=eval_set.pk, text=GOOD)
    assert EvalSet.objects.get(pk=eval_set.pk).questions.count() == 0
