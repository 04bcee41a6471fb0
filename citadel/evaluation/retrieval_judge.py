"""Judge retrieval against a golden set (the `evaluate` command and the quality benchmark).

The file format and its line-numbered errors are citadel.evaluation.golden's; relevance (per
document, or per passage when a line gives "passages") is citadel.evaluation.scoring's."""

from pathlib import Path

from citadel.core.errors import InvalidInput
from citadel.core.principal import Principal
from citadel.evaluation.follow_ups import golden_searched_as
from citadel.evaluation.golden import MAX_RETRIEVAL_QUESTION_CHARS, GoldenItem, parse_golden_jsonl
from citadel.evaluation.metrics import mean, ndcg_at_k, precision_at_k, recall_at_k, reciprocal_rank
from citadel.evaluation.scoring import judge
from citadel.retrieval.services import MAX_QUERY_CHARS, retrieve


def read_golden_file(path: str | Path) -> list[GoldenItem]:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"No such file: {path}") from None
    except OSError as exc:
        raise InvalidInput(f"Cannot read {path}: {exc.strerror}") from None
    items = parse_golden_jsonl(data, max_question_chars=MAX_RETRIEVAL_QUESTION_CHARS)
    if not items:
        raise InvalidInput(f"{path} holds no questions.")
    return items


def retrieval_query(question: str) -> str:
    """What retrieval is asked for a question: all of it, or its first MAX_QUERY_CHARS characters
    cut at a space (retrieve() refuses longer queries)."""
    if len(question) <= MAX_QUERY_CHARS:
        return question
    cut = question[: MAX_QUERY_CHARS + 1].rsplit(" ", 1)[0]
    return cut if cut else question[:MAX_QUERY_CHARS]


def question_row(item: GoldenItem, hits, k: int, *, searched_as: str = "") -> dict:
    judged = judge(hits, expected_ids=item.expected, expected_passages=item.passages)
    ranked, relevant = judged.ranked, judged.relevant
    return {
        "line": item.line,
        "question": item.question,
        "expected": item.expected,
        "retrieved": list(dict.fromkeys(h.external_id for h in hits)),
        "truncated": len(searched_as or item.question) > MAX_QUERY_CHARS,
        "searched_as": searched_as,
        f"recall@{k}": recall_at_k(ranked, relevant, k),
        f"precision@{k}": precision_at_k(ranked, relevant, k),
        "mrr": reciprocal_rank(ranked, relevant, k),
        f"ndcg@{k}": ndcg_at_k(ranked, relevant, k),
    }


def summarize(rows: list[dict], k: int) -> dict:
    return {
        "k": k,
        "questions": len(rows),
        "truncated": sum(1 for r in rows if r.get("truncated")),
        f"recall@{k}": mean(r[f"recall@{k}"] for r in rows),
        "mrr": mean(r["mrr"] for r in rows),
        f"ndcg@{k}": mean(r[f"ndcg@{k}"] for r in rows),
        "rows": rows,
    }


def evaluate_retrieval(
    *, principal: Principal, items: list[GoldenItem], k: int = 10, settings: dict | None = None
) -> dict:
    """{"k", "questions", "truncated", "recall@k", "mrr", "ndcg@k", "rows"} with one retrieve() per
    question (a follow-up's standalone form); "truncated" counts the questions retrieval read only
    the start of."""
    rows = []
    for item in items:
        query = golden_searched_as(principal=principal, question=item.question, earlier_turns=item.earlier_turns)
        hits = retrieve(principal=principal, query=retrieval_query(query), k=k, settings=settings)
        rows.append(question_row(item, hits, k, searched_as=query if query != item.question else ""))
    return summarize(rows, k)
