"""One vocabulary of states: what every page, e-mail and export calls the state of a thing.

Each kind of thing (an answer, a review item, a report...) maps each of its stored state values to
a `State`: a short label, a tone (the badge's colour) and one plain sentence. Core imports no app,
so the values are written here as strings; tests/core/test_states.py checks them against every
model's choices, so a new status cannot ship without words. Rendered by `{% state kind value %}`
(citadel_tags) through templates/partials/state.html.
"""

from dataclasses import dataclass

# The tones a badge may take; static/citadel/citadel.css gives each a colour (`.state-<tone>`).
TONES = ("ok", "warn", "bad", "busy", "quiet")


@dataclass(frozen=True)
class State:
    label: str
    tone: str
    sentence: str


# The states every background run shares (citadel.jobs.models.RunStatus); kinds add their own.
_RUN = {
    "queued": State("Queued", "busy", "Waiting for a worker to start it."),
    "running": State("Running", "busy", "A worker is on it now."),
    "failed": State("Failed", "bad", "It stopped before it finished; it can be retried."),
    "cancelled": State("Cancelled", "quiet", "Someone stopped it before it finished."),
}

STATES: dict[str, dict[str, State]] = {
    # Answer.status (citadel.answers.models.AnswerStatus), and the two states of a question that has
    # no answer yet on the ask page.
    "answer": {
        "answered": State("Answered", "ok", "The answer is built from the cited passages."),
        "partial": State(
            "Partly answered", "warn", "The cited passages answer part of the question; the rest is named."
        ),
        "insufficient_evidence": State(
            "Not enough evidence",
            "warn",
            "Nothing you may read answers this question; the closest passages are shown instead.",
        ),
        "pending_review": State(
            "Waiting for review", "warn", "A reviewer must approve this answer before it is shown."
        ),
        "rejected": State("Rejected by a reviewer", "bad", "A reviewer decided this answer must not be used."),
        "failed": State("Failed", "bad", "Citadel could not finish this answer; please ask again."),
        "cancelled": State("Stopped", "quiet", "The answer was stopped before it finished."),
        "answering": State("Answering", "busy", "The answer is being written now."),
        "interrupted": State(
            "Interrupted", "bad", "The connection closed before the answer finished; please ask again."
        ),
    },
    # ReviewItem.state (citadel.review.models.ReviewState) and Answer.review_state (ReviewOutcome).
    "review": {
        "none": State("Not reviewed", "quiet", "No reviewer was asked to check this answer."),
        "pending": State("Waiting for review", "warn", "A reviewer has not decided yet."),
        "escalated": State("Escalated", "warn", "Passed to a senior reviewer to decide."),
        "approved": State("Approved", "ok", "A reviewer approved it."),
        "rejected": State("Rejected", "bad", "A reviewer rejected it."),
    },
    # Report.status (citadel.reports.models.ReportStatus).
    "report": {
        **_RUN,
        "needs_review": State("In review", "warn", "Its answers wait for a reviewer before the report is published."),
        "published": State("Published", "ok", "Every item was reviewed; the report is published."),
    },
    # ReportItem.status (citadel.reports.models.ItemStatus), and an item withheld from its reader.
    "report_item": {
        "queued": State("Queued", "busy", "This item has not been answered yet."),
        "answered": State("Answered", "ok", "The item is answered from the cited passages."),
        "not_found": State("Not found", "warn", "The documents do not answer this item."),
        "pending_review": State("Waiting for review", "warn", "A reviewer must decide this item."),
        "approved": State("Approved", "ok", "A reviewer approved this item."),
        "rejected": State("Rejected", "bad", "A reviewer rejected this item."),
        "failed": State("Failed", "bad", "This item could not be answered."),
        "withheld": State("Withheld", "quiet", "This item cites a document you may not read."),
    },
    # Extraction.status (citadel.extraction.models.ExtractionStatus).
    "extraction": {
        **_RUN,
        "needs_review": State("In review", "warn", "Some values wait for a reviewer to confirm or correct them."),
        "ready": State("Ready", "ok", "Every value was read or checked."),
    },
    # ExtractionValue.status (citadel.extraction.models.ValueStatus), and the cells without a value
    # or withheld from their reader.
    "extraction_value": {
        "extracted": State("Read", "ok", "Read from the document with confidence."),
        "needs_review": State("To check", "warn", "Read with low confidence: a reviewer must confirm or correct it."),
        "confirmed": State("Confirmed", "ok", "A reviewer confirmed this value."),
        "corrected": State("Corrected", "ok", "A reviewer corrected this value."),
        "not_found": State("Not found", "warn", "The document does not say this."),
        "withheld": State("Withheld", "quiet", "This value comes from a document you may not read."),
    },
    # Summary.status (citadel.summaries.models.SummaryStatus), and what a reader is shown of a
    # document's summary (citadel.summaries.selectors.SummaryView.state).
    "summary": {
        **_RUN,
        "ready": State("Ready", "ok", "The summary is written."),
        "stale": State("Out of date", "warn", "Written for an older version of the document."),
        "none": State("No summary", "quiet", "Nobody asked for a summary of this document yet."),
    },
    # SourceSync.status (citadel.sources.models.SyncStatus).
    "sync": {
        **_RUN,
        "done": State("Synced", "ok", "The source was read and its documents brought up to date."),
    },
    # SyncOutcome.outcome (citadel.sources.models.Outcome): what a sync did with one item.
    "sync_item": {
        "added": State("Added", "ok", "A new document was added."),
        "updated": State("Updated", "ok", "A new version of the document was added."),
        "unchanged": State("Unchanged", "quiet", "Nothing changed since the last sync."),
        "renamed": State("Renamed", "ok", "The item moved; its document kept its history."),
        "archived": State("Archived", "quiet", "The item is gone from the source; its document was archived."),
        "failed": State("Failed", "bad", "This item could not be read."),
    },
    # EvaluationRun.status (citadel.evaluation.models.RunStatus).
    "evaluation": {
        **_RUN,
        "done": State("Done", "ok", "Every question of the set was run and scored."),
    },
    # LabellingRun.status (citadel.classification.models.LabellingStatus).
    "labelling": {
        **_RUN,
        "done": State("Done", "ok", "Every ready document was labelled again."),
    },
    # DocumentLabel.status (citadel.documents.models.LabelStatus).
    "label": {
        "assigned": State("Assigned", "ok", "Given by the classifier with confidence."),
        "suggested": State("Suggested", "warn", "The classifier is not sure: a reviewer confirms or rejects it."),
        "accepted": State("Accepted", "ok", "Given or confirmed by a person."),
        "rejected": State("Rejected", "quiet", "A person removed it; the classifier will not give it again."),
    },
    # Any background run (citadel.jobs.models.RunStatus), and one whose worker was lost (Run.lost).
    "run": {
        **_RUN,
        "lost": State(
            "Worker lost", "warn", "Its worker stopped answering; another worker takes it over and resumes it."
        ),
    },
    # DocumentVersion.status (citadel.documents.models.VersionStatus): the ingestion pipeline.
    "document": {
        "uploaded": State("Uploaded", "busy", "Received; waiting to be read."),
        "scanning": State("Scanning", "busy", "Checking the file before it is read."),
        "parsing": State("Reading", "busy", "Reading the text out of the file."),
        "chunking": State("Splitting", "busy", "Splitting the text into passages."),
        "embedding": State("Embedding", "busy", "Working out what each passage means, for search."),
        "indexing": State("Indexing", "busy", "Adding the passages to search."),
        "ready": State("Ready", "ok", "Searchable: questions can cite this version."),
        "failed": State("Failed", "bad", "This version could not be read; see the error and retry."),
        "superseded": State("Superseded", "quiet", "A newer version replaced this one."),
        "archived": State("Archived", "quiet", "Removed from search; kept on record."),
    },
    # A call to a model (citadel.audit.models.PromptLog.status, and a receipt's model calls).
    "model_call": {
        "ok": State("Done", "ok", "The model answered."),
        "error": State("Error", "bad", "The model's provider returned an error."),
        "timeout": State("Timed out", "bad", "The model did not answer in time."),
        "cancelled": State("Cancelled", "quiet", "The call was stopped before the model finished."),
    },
    # A task on the operations page (citadel.ops): running, or its worker stopped sending heartbeats.
    "task": {
        "running": State("Running", "busy", "A worker is on it and sends heartbeats."),
        "stuck": State("Stuck", "bad", "Its worker stopped sending heartbeats; the reaper re-queues or fails it."),
    },
    # A worker on the operations page, by its last heartbeat (citadel.jobs.models.WorkerHeartbeat).
    "worker": {
        "alive": State("Alive", "ok", "It sent a heartbeat recently."),
        "stale": State("Stale", "bad", "No heartbeat for too long: it may have died."),
    },
    # A model provider's circuit breaker (citadel.providers).
    "breaker": {
        "closed": State("Closed", "ok", "Calls go through."),
        "open": State("Open", "bad", "Calls are refused until the provider recovers."),
        "half_open": State("Half open", "warn", "A few calls probe whether the provider recovered."),
        "local": State("Local", "quiet", "A local model: no breaker."),
        "unknown": State("Unknown", "quiet", "The breakers' state could not be read."),
    },
    # EmbeddingModelChange.status (citadel.documents.models.EmbeddingChangeStatus).
    "embedding_change": {
        "pending": State("Pending", "busy", "Waiting to embed the passages with the new model."),
        "running": State("Running", "busy", "Embedding the passages with the new model."),
        "done": State("Done", "ok", "Search now uses the new model."),
        "failed": State("Failed", "bad", "The change stopped before it finished; search keeps the old model."),
    },
}


def state_of(kind: str, value: object) -> State:
    """The words for `value` of `kind`. A value nobody wrote words for still reads as words (never
    a raw `needs_review`), in a quiet tone, rather than breaking the page it is on."""
    key = str(getattr(value, "value", value) or "")
    known = STATES.get(kind, {}).get(key)
    if known is not None:
        return known
    label = key.replace("_", " ").strip().capitalize() or "Unknown"
    return State(label, "quiet", "")
