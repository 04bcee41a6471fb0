"""ask QUESTION --as USERNAME [--org SLUG] [--thread ID [--clear-scope]] [--as-written] [--document EXTERNAL_ID ...]
[--team NAME] [--label NAME ...] --json

--thread follows up in that thread of the asker's (another's is an error, as if it did not exist): the
question keeps the thread's scope unless it names one or --clear-scope drops it, and is searched as the
standalone question the thread makes of it ("and abroad?" after a question on the meal allowance),
unless --as-written.

--document, --team and --label narrow the search to those documents, the documents granted to that
team, or the documents with any of those labels (together: what all of them allow), never beyond
what the asker may read; a --document the asker may not read is an error, as if it did not exist.

Prints answer_id, status (answered | partial | insufficient_evidence | pending_review | failed),
text, citations [n, chunk_id, document_id, external_id, title, version, page, locator, quote] and
receipt_url; then thread_id (the thread this question belongs to; a first question starts one),
searched_as (the standalone question that was searched: the question itself when not rewritten), review (none | pending | approved | rejected), support (the answerability score),
uncovered (phrases of the question the cited sources do not cover), notice and flags. An abstention is insufficient_evidence whatever its review state. An answer waiting for
review shows no text or citations, exactly as the asker sees it on the web."""

from django.conf import settings
from django.urls import reverse

from citadel.accounts.selectors import principal_for_username
from citadel.answers.models import AnswerStatus
from citadel.answers.selectors import answer_citations, answer_support
from citadel.answers.services import answer_question
from citadel.core.commands import JsonCommand
from citadel.documents.selectors import external_document_ids

# The contract names four statuses; a cancelled answer cannot come from a blocking command, and
# a rejected one only exists after review.
_CONTRACT_STATUS = {AnswerStatus.CANCELLED: AnswerStatus.FAILED}


class Command(JsonCommand):
    help = "Ask a question as a user and print the checked answer with its citations."

    def add_arguments(self, parser):
        parser.add_argument("question")
        parser.add_argument("--as", dest="username", required=True, help="Username of the asker.")
        parser.add_argument("--org", dest="org", help="Organization slug (needed when the user has several).")
        parser.add_argument(
            "--document",
            dest="documents",
            action="append",
            default=[],
            metavar="EXTERNAL_ID",
            help="Ask within this document (repeatable).",
        )
        parser.add_argument("--team", help="Ask within the documents granted to this team.")
        parser.add_argument(
            "--label", dest="labels", action="append", default=[], help="Ask within documents with this label."
        )
        parser.add_argument("--thread", dest="thread_id", type=int, help="Follow up in this thread of yours.")
        parser.add_argument(
            "--clear-scope",
            dest="scope_clear",
            action="store_true",
            help="With --thread: search every document you may read again (or only the scope given here).",
        )
        parser.add_argument(
            "--as-written", dest="as_written", action="store_true", help="Search the question exactly as written."
        )

    def run(
        self,
        *,
        question,
        username,
        org=None,
        documents=(),
        team=None,
        labels=(),
        thread_id=None,
        scope_clear=False,
        as_written=False,
        **_,
    ):
        principal = principal_for_username(username=username, org_slug=org)
        answer = answer_question(
            principal=principal,
            text=question,
            document_ids=external_document_ids(principal=principal, external_ids=documents) if documents else None,
            team=team,
            labels=labels or None,
            thread_id=thread_id,
            scope_clear=scope_clear,
            as_written=as_written,
        )
        hidden = answer.status == AnswerStatus.PENDING_REVIEW
        citations = [] if hidden else answer_citations(answer)
        return {
            "answer_id": answer.pk,
            "status": _CONTRACT_STATUS.get(answer.outcome, answer.outcome),
            "review": answer.review_state,
            "support": answer_support(answer),
            "uncovered": list(answer.uncovered or []),
            "text": "" if hidden else answer.text,
            "citations": citations,
            "receipt_url": settings.CITADEL.get("SITE_URL", "").rstrip("/")
            + reverse("answers:receipt", args=[answer.pk]),
            "notice": answer.notice,
            "flags": answer.flags,
            "thread_id": answer.question.thread_id,
            "searched_as": answer.question.searched_as or answer.question.text,
        }

    def render_text(self, result) -> str:
        lines = [f"[{result['status']}] {result['text'] or result['notice']}"]
        if result["uncovered"]:
            lines.append(f"  the sources do not say: {', '.join(result['uncovered'])}")
        lines += [
            f"  [{c['n']}] {c['title']} v{c['version']} p{c['page']}: {c['quote']}"
            + (f" (this source was due for review on {c['review_due']})" if c.get("review_due") else "")
            for c in result["citations"]
        ]
        lines.append(f"receipt: {result['receipt_url']}")
        lines.append(f"thread {result['thread_id']}, searched as: {result['searched_as']}")
        return "\n".join(lines)
