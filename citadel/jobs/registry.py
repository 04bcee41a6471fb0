"""The kinds of run: each app registers its own in its AppConfig.ready(), so the reaper, the
`run_cancel` command and the rules find them without importing the apps above this layer."""

from collections.abc import Callable
from dataclasses import dataclass

from citadel.core.errors import NotFound


@dataclass(frozen=True, slots=True)
class RunNotice:
    """What a run's owner is told as it ends (citadel.jobs.services.run_owner_notify): the
    notification kind of each state worth telling ({"needs_review": "report_ready"}; a failure is
    always told), the kind's words for its states (citadel.core.states), and the run's name as its
    owner knows it and its page."""

    kinds: dict[str, str]
    states: str
    name: Callable
    url: Callable


@dataclass(frozen=True, slots=True)
class RunKind:
    # The kind's name in `reap_stale --json` and `run_cancel KIND ID`: "reports", "summaries".
    name: str
    model: type
    # The task that runs one run, given its id.
    task: str
    # A run that lost its worker this many times is failed rather than queued again.
    max_attempts: int = 3
    # Undoes, in the re-queueing transaction, what a run left half done (a failed report's items).
    reset: Callable | None = None
    # Its owner is told how it ended; None: nobody is (syncs the schedule starts, labelling).
    notice: RunNotice | None = None


_KINDS: dict[str, RunKind] = {}


def run_kind_register(kind: RunKind) -> None:
    _KINDS[kind.name] = kind


def run_kinds() -> list[RunKind]:
    return sorted(_KINDS.values(), key=lambda k: k.name)


def run_kind(name: str) -> RunKind:
    kind = _KINDS.get(name)
    if kind is None:
        raise NotFound(f"No kind of run is called {name!r}: one of {', '.join(sorted(_KINDS))}.")
    return kind


def run_kind_of(model: type) -> RunKind:
    return next(k for k in _KINDS.values() if k.model is model)
