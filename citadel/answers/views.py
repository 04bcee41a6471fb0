import json

from django import forms
from django.core.cache import cache
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from citadel.accounts.decorators import principal_required
from citadel.accounts.models import Organization, ReviewPolicy
from citadel.accounts.rules import require_role
from citadel.answers import selectors, services
from citadel.answers.models import Answer, AnswerStatus, QuestionOrigin, ReviewOutcome
from citadel.answers.receipts import receipt_for_viewer, receipt_held_for_review
from citadel.core.errors import CitadelError, InvalidInput, LimitExceeded, NotFound
from citadel.core.ids import MAX_ID, parse_id
from citadel.core.principal import Role
from citadel.core.ratelimit import limit_action
from citadel.documents.access import readable_chunk_ids, readable_documents
from citadel.documents.selectors import label_names
from citadel.providers.generation import EXTRACTIVE
from citadel.retrieval.services import MAX_TEAM_NAME

FLAG_LABELS = {
    "abstained": "Not enough evidence",
    "low_scores": "Weak match",
    "partial": "Partly answered",
    "unsupported_sentences": "Unsupported sentences",
    "sensitive_document": "Sensitive source",
    "watch_word": "Watch word",
    "suspicious_source": "Suspicious source",
}


def flag_word(flag: str) -> str:
    return FLAG_LABELS.get(flag, flag.replace("_", " "))


class AskForm(forms.Form):
    question = forms.CharField(
        max_length=services.MAX_QUESTION_CHARS,
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "placeholder": "Ask a question about your documents",
                "aria-describedby": "ask-keys",
                "data-ask-box": "",
            }
        ),
    )
    label = forms.ChoiceField(required=False, label="Only documents labelled")
    # The scope a link asked within ("Ask about this document"), carried through the POST.
    document = forms.TypedMultipleChoiceField(
        required=False,
        coerce=int,
        widget=forms.MultipleHiddenInput,
        error_messages={"invalid_choice": "That document is not one you may read."},
    )
    team = forms.CharField(required=False, max_length=MAX_TEAM_NAME, widget=forms.HiddenInput)
    # The thread a question asked here follows up in (the one on the page); none starts a new one.
    thread = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)
    as_written = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # The thread's scope was cleared on the page: its next turns search everything the asker reads.
    scope_clear = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, labels=(), documents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["label"].choices = [("", "(any)"), *((name, name) for name in labels)]
        self.fields["document"].choices = [(d.pk, d.title) for d in documents]


def _scope_documents(principal, data) -> tuple[list, bool]:
    """The documents among the `document` ids of `data` that the principal may read, by title, and
    whether any asked for were left out (missing and unreadable alike: only their count shows)."""
    asked = set(data.getlist("document"))
    wanted = {parse_id(value) for value in asked} - {None}
    documents = list(readable_documents(principal).filter(pk__in=wanted).only("pk", "title").order_by("title", "pk"))
    return documents, len(documents) < len(asked)


def _streams(organization: Organization) -> bool:
    return (organization.generation_provider or EXTRACTIVE).strip().lower() != EXTRACTIVE


def answer_context(request, answer) -> dict:
    principal = request.principal
    passages = list(answer.passages.with_sources())
    readable = readable_chunk_ids(principal, [p.chunk_id for p in passages])
    by_pk = {p.pk: p for p in passages}
    # By passage, each passage's quotes in the order of the text (the order they were written).
    citation_rows = list(answer.citations.order_by("n", "pk"))
    labels = selectors.quote_labels([c.n for c in citation_rows])
    citations = [
        {
            "citation": c,
            "label": label,
            "passage": by_pk[c.passage_id],
            "readable": by_pk[c.passage_id].chunk_id in readable,
        }
        for c, label in zip(citation_rows, labels, strict=True)
    ]
    is_asker = answer.question.asker_id == principal.user_id
    visibility = selectors.answer_visibility(principal=principal, answer=answer)
    hidden = not visibility.text
    return {
        "answer": answer,
        "question": answer.question,
        "is_asker": is_asker,
        "text_hidden": hidden,
        # The text is built from documents this viewer may not read (now): said, never shown.
        "withheld_sources": [] if visibility.awaiting_review else visibility.content.withheld_titles,
        "segments": [] if hidden else selectors.answer_segments(answer.text, citation_rows),
        "citations": [] if hidden else citations,
        "closest": [
            {"passage": p, "readable": p.chunk_id in readable, "snippet": p.chunk.text[:300] if p.chunk else ""}
            for p in passages[:3]
        ],
        "changes": selectors.source_changes(
            answer=answer, citations=citation_rows, passages=passages, viewer=principal
        ),
        "card_status": card_status(answer),
        "flag_labels": flag_labels(answer),
    }


def card_status(answer: Answer) -> str:
    """The one state the card's badge shows (citadel.core.states, kind "answer"): an abstention
    reads as one whether or not a reviewer still checks it (as `ask --json` says), a rejection as
    a rejection; the review itself is told beside it (templates/review/_review_status.html)."""
    if answer.status == AnswerStatus.REJECTED:
        return answer.status
    return answer.outcome


def flag_labels(answer: Answer) -> list[str]:
    """The builder's flags as badges, while they still matter: once a reviewer approved the
    answer their decision is what counts, and a flag that only repeats the status badge is left
    out."""
    if answer.review_state == ReviewOutcome.APPROVED:
        return []
    repeated = {"abstained"} if answer.abstained else set()
    if answer.partial:
        repeated.add("partial")
    return [flag_word(f) for f in answer.flags if f not in repeated]


def _asked(response: HttpResponse, *, question) -> HttpResponse:
    """A question was asked: the ask page's history (listening for this event) lists it now, and
    the form's next question follows up in its thread (citadel.js sets the form's field; an
    out-of-band swap of the field would copy attributes, which the CSP refuses)."""
    response["HX-Trigger"] = json.dumps({"question-asked": None, "thread-continued": question.thread_id})
    return response


def _history(principal) -> list[dict]:
    """The asker's latest questions, each with the one state its answer's card shows."""
    return _question_rows(selectors.question_history(principal=principal))


def _question_rows(questions) -> list[dict]:
    rows = []
    for question in questions:
        answer = getattr(question, "answer", None)
        if answer is not None:
            status = card_status(answer)
        else:
            status = "interrupted" if selectors.is_abandoned(question) else "answering"
        rows.append({"question": question, "answer": answer, "status": status})
    return rows


@require_http_methods(["GET", "POST"])
@principal_required
def ask(request):
    principal = request.principal
    labels = label_names(principal)
    documents, left_out = _scope_documents(principal, request.POST if request.method == "POST" else request.GET)
    thread = None
    if request.method == "POST":
        form = AskForm(request.POST, labels=labels, documents=documents)
        team = form["team"].value() or ""
    else:
        label = request.GET.get("label", "")
        team = request.GET.get("team", "").strip()[:MAX_TEAM_NAME]
        initial = {"document": [d.pk for d in documents], "team": team, "label": label if label in labels else ""}
        if "thread" in request.GET:
            thread = selectors.get_thread(principal=principal, thread_id=request.GET["thread"])
            # A follow-up keeps the thread's scope without sending it again: the chip tells it
            # (by the titles the asker may still read), the form carries only the thread.
            scope_clear = request.GET.get("scope") == "clear"
            scope = {} if scope_clear else thread.scope
            documents = list(
                readable_documents(principal)
                .filter(pk__in=scope.get("document_ids") or [])
                .only("pk", "title")
                .order_by("title", "pk")
            )
            team = scope.get("team", "")
            initial = {"thread": thread.pk, "scope_clear": scope_clear}
        form = AskForm(labels=labels, documents=documents, initial=initial)
    status = 200
    context: dict = {
        "form": form,
        "scope": _scope_chip(team.strip(), documents),
        "scope_left_out": left_out,
        "thread": thread,
        "turns": _question_rows(selectors.thread_turns(thread)) if thread else [],
    }
    if request.method == "POST":
        if form.is_valid():
            text = form.cleaned_data["question"]
            try:
                limit_action("ask", principal)
                label = form.cleaned_data.get("label")
                question = services.question_create(
                    principal=principal,
                    text=text,
                    labels=[label] if label else None,
                    document_ids=form.cleaned_data["document"] or None,
                    team=form.cleaned_data["team"].strip() or None,
                    thread_id=form.cleaned_data["thread"],
                    scope_clear=form.cleaned_data["scope_clear"],
                    as_written=form.cleaned_data["as_written"],
                )
                if request.htmx and _streams(question.organization):
                    return _asked(
                        render(request, "answers/question.html#streaming", {"question": question}), question=question
                    )
                answer = services.answer_build(principal=principal, question=question)
            except LimitExceeded as exc:
                context["error"] = exc.message
                context["retry_after"] = exc.retry_after
                status = 429
            except InvalidInput as exc:
                form.add_error("question", exc.message)
                status = 400
            else:
                if request.htmx:
                    answer = selectors.get_answer(principal=principal, answer_id=answer.pk)
                    return _asked(
                        render(request, "answers/answer.html#card", answer_context(request, answer)),
                        question=answer.question,
                    )
                return redirect("answers:detail", answer.pk)
        else:
            status = 400
        if request.htmx:
            response = render(request, "answers/ask.html#ask_error", context, status=status)
            if status == 429:
                response["Retry-After"] = str(context.get("retry_after", 3600))
            return response
    context.update(_history_context(principal))
    response = render(request, "answers/ask.html", context, status=status)
    if status == 429:
        response["Retry-After"] = str(context.get("retry_after", 3600))
    return response


def _scope_chip(team: str, documents: list) -> dict | None:
    """What the ask page's chip says it asks within: the documents' titles (only those the asker
    may read reach here) and the team named."""
    if not documents and not team:
        return None
    return {"titles": [d.title for d in documents], "team": team}


@require_GET
@principal_required
def history(request):
    """The ask page's "My questions", fetched again after each question and each streamed answer."""
    return render(request, "answers/ask.html#history", _history_context(request.principal))


def _history_context(principal) -> dict:
    return {"history": _history(principal), "threads": selectors.recent_threads(principal=principal)}


@require_GET
@principal_required
def detail(request, answer_id: int):
    answer = selectors.get_answer(principal=request.principal, answer_id=answer_id)
    template = "answers/answer.html#card" if request.htmx else "answers/answer.html"
    return render(request, template, answer_context(request, answer))


@require_GET
@principal_required
def receipt(request, answer_id: int):
    """The receipt, for whoever may see the answer. While a reviewer holds the answer back from
    its asker (waiting, or rejected), the asker reads what was searched, scored and paid, never the
    text or its quotes."""
    answer = selectors.get_answer(principal=request.principal, answer_id=answer_id)
    visibility = selectors.answer_visibility(principal=request.principal, answer=answer)
    data = getattr(answer, "receipt", None)
    shown = receipt_for_viewer(data.data, visibility.content) if data else None
    if shown and visibility.awaiting_review:
        shown = receipt_held_for_review(shown)
    cited = shown["citations"] if shown else []
    return render(
        request,
        "answers/receipt.html",
        {
            "answer": answer,
            "receipt": shown,
            "held_for_review": visibility.awaiting_review,
            "card_status": card_status(answer),
            **(_written_status(shown) if shown else {}),
            "review_words": review_words(shown["review"], answer=answer, flags=shown.get("flags", [])) if shown else "",
            "citations": list(zip(selectors.quote_labels([c["n"] for c in cited]), cited, strict=True)),
            "receipt_created_at": data.created_at if data else None,
            "searched_within": _searched_within(
                request.principal, shown.get("retrieval", {}).get("scope") if shown else None
            ),
            "changes": selectors.source_changes(answer=answer),
            "raw": json.dumps(shown, indent=2, sort_keys=True) if data else "",
        },
    )


def _searched_within(principal, scope: dict | None) -> list[str]:
    """The receipt's scope in words: the documents the viewer may read by title (the others
    counted only), the labels and the team."""
    if not scope:
        return []
    words = []
    if ids := scope.get("document_ids"):
        titles = list(
            readable_documents(principal).filter(pk__in=ids).order_by("title").values_list("title", flat=True)
        )
        words += titles
        if hidden := len(ids) - len(titles):
            words.append(f"{hidden} document{'s' if hidden > 1 else ''} you may not read")
    words += [f"label {label}" for label in scope.get("labels") or []]
    if team := scope.get("team"):
        words.append(f"the documents of team {team}")
    return words


def _written_status(shown: dict) -> dict:
    """The receipt's status when written, read as the card reads it: an abstention that waited for
    review was an abstention (the review line says it waited)."""
    flags = shown.get("flags", [])
    abstained = "abstained" in flags
    return {
        "written_status": AnswerStatus.INSUFFICIENT_EVIDENCE if abstained else shown.get("status"),
        "flag_words": [flag_word(f) for f in flags if not (abstained and f == "abstained")],
    }


def review_words(review: dict, *, answer: Answer, flags: list[str]) -> str:
    """The receipt's review line as people read it: whether a reviewer had to look, and why."""
    policy = review.get("policy")
    if review.get("required"):
        if answer.question.origin == QuestionOrigin.REPORT:
            why = "every item of a report is reviewed"
        elif policy == ReviewPolicy.ALL:
            why = "your organization reviews every answer"
        else:
            raised = ", ".join(flag_word(f).lower() for f in flags) or "a flag"
            why = f"your organization reviews flagged answers, and this one raised: {raised}"
        return f"Required: sent to review item {review.get('item_id')}, because {why}."
    if answer.question.origin == QuestionOrigin.EVALUATION:
        return "Not needed: an evaluation run's answers are measured, never reviewed."
    if policy == ReviewPolicy.FLAGGED:
        return "Not needed: your organization reviews only flagged answers, and this one raised no flag."
    if policy == ReviewPolicy.NONE:
        return "Not needed: your organization does not review answers."
    return "Not needed."


def _answer_with_sources(request, answer_id: int):
    """The answer whose sources the viewer opens: only when they may read its text."""
    answer = selectors.get_answer(principal=request.principal, answer_id=answer_id)
    if not selectors.answer_visibility(principal=request.principal, answer=answer).text:
        raise NotFound("Citation not found.")
    return answer


@require_GET
@principal_required
def source(request, answer_id: int, n: int):
    """Passage n with one quote highlighted: ?citation= names which when the answer quotes the
    passage more than once (each marker links to its own)."""
    answer = _answer_with_sources(request, answer_id)
    found = selectors.citation_source(
        principal=request.principal, answer=answer, n=n, citation_id=request.GET.get("citation")
    )
    return render(request, "answers/source.html", {"answer": answer, "source": found})


@require_GET
@principal_required
def source_page(request, answer_id: int, n: int):
    """The cited page drawn as an image with the quote highlighted (never the file itself)."""
    answer = _answer_with_sources(request, answer_id)
    response = HttpResponse(
        selectors.citation_page_png(
            principal=request.principal, answer=answer, n=n, citation_id=request.GET.get("citation")
        ),
        content_type="image/png",
    )
    response["Cache-Control"] = "private, max-age=600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@principal_required
def question(request, question_id: int):
    q = selectors.get_question(principal=request.principal, question_id=question_id)
    answer = getattr(q, "answer", None)
    if answer is not None:
        return redirect("answers:detail", answer.pk)
    return render(request, "answers/question.html", {"question": q, "abandoned": selectors.is_abandoned(q)})


def _sse(event: str, data) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


@require_GET
@principal_required
def stream(request, question_id: int):
    """Server-sent events: "delta" (text as the model writes it), then "final" with the URL of
    the checked answer card, or "failure" with a message. Closing the connection cancels."""
    principal = request.principal
    q = selectors.get_question(principal=principal, question_id=question_id)
    cancel_key = services.cancel_key(q.pk)

    def events():
        existing = getattr(q, "answer", None)
        if existing is None:
            yield ": answering\n\n"
            build = services.answer_build_stream(
                principal=principal, question=q, cancelled=lambda: cache.get(cancel_key) is not None
            )
            try:
                while True:
                    yield _sse("delta", next(build))
            except StopIteration as done:
                existing = done.value
            except CitadelError as exc:
                yield _sse("failure", {"message": exc.message})
                return
            finally:
                build.close()
        yield _sse("final", {"url": reverse("answers:detail", args=[existing.pk])})

    response = StreamingHttpResponse(events(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


@require_POST
@principal_required
def cancel(request, question_id: int):
    q = selectors.get_question(principal=request.principal, question_id=question_id)
    answer = services.question_cancel(principal=request.principal, question=q)
    if answer is not None and request.htmx:
        return HttpResponse(status=204, headers={"HX-Redirect": reverse("answers:detail", args=[answer.pk])})
    if request.htmx:
        return HttpResponse(status=204)
    return redirect("answers:question", q.pk)


@require_GET
@principal_required
def spend(request):
    principal = require_role(request.principal, Role.ADMIN, "Only admins of the organization see its spend.")
    organization = Organization.objects.get(pk=principal.organization_id)
    return render(
        request,
        "answers/spend.html",
        {
            "organization": organization,
            "rows": selectors.monthly_totals(organization_id=principal.organization_id),
            "spent": selectors.monthly_spend(organization_id=principal.organization_id),
        },
    )


def home(request):
    if request.principal is None:
        return render(request, "accounts/no_membership.html", status=403)
    # Asking is what members come for: home is the ask page (with their past questions), served
    # in place so "/" stays a stable 200 for bookmarks and health checks.
    return ask(request)
