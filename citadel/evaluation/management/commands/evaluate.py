from citadel.accounts.selectors import principal_for_username
from citadel.core.commands import JsonCommand
from citadel.evaluation.retrieval_judge import evaluate_retrieval, read_golden_file
from citadel.retrieval.services import MAX_QUERY_CHARS, clean_k


class Command(JsonCommand):
    help = (
        "Judge retrieval for USERNAME against a JSONL file of "
        '{"question": ..., "expected": [external ids]}: recall@k, MRR, nDCG@k and per-question rows.'
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="JSONL golden questions.")
        parser.add_argument("--as", dest="username", required=True, help="Act as this user.")
        parser.add_argument("--org", help="Organization slug (needed when the user belongs to several).")
        parser.add_argument("--k", type=int, default=10, help="Cut-off (default 10).")

    def run(self, **options):
        k = clean_k(options["k"])
        items = read_golden_file(options["file"])
        principal = principal_for_username(username=options["username"], org_slug=options.get("org"))
        return evaluate_retrieval(principal=principal, items=items, k=k)

    def render_text(self, result) -> str:
        k = result["k"]

        def fmt(value):
            return "n/a" if value is None else f"{value:.3f}"

        lines = [
            f"{result['questions']} questions  recall@{k} {fmt(result[f'recall@{k}'])}  "
            f"MRR {fmt(result['mrr'])}  nDCG@{k} {fmt(result[f'ndcg@{k}'])}"
        ]
        if result["truncated"]:
            lines.append(
                f"  note: {result['truncated']} {'question is' if result['truncated'] == 1 else 'questions are'} "
                f"longer than {MAX_QUERY_CHARS} characters; retrieval read the first {MAX_QUERY_CHARS} of each"
            )
        for row in result["rows"]:
            lines.append(f"  line {row['line']}: recall {fmt(row[f'recall@{k}'])}  {row['question']}")
        return "\n".join(lines)
