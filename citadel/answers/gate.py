"""The review gate's seat in the answer pipeline.

Review sits above answering: it reads answers, decides them and publishes them. The pipeline still
has to ask, inside the transaction that writes an answer, whether that answer must wait for a
reviewer. The review app installs its gate here when Django starts (`ReviewConfig.ready`). With no
gate installed nothing is published unreviewed: answering fails loudly instead.
"""

from typing import Protocol

from django.core.exceptions import ImproperlyConfigured


class ReviewGate(Protocol):
    def __call__(self, *, answer) -> int | None:
        """Apply the organization's review policy to a freshly written answer: the id of the
        review item it now waits on, or None when it may be shown at once."""


_gate: ReviewGate | None = None


def review_gate_install(gate: ReviewGate) -> None:
    global _gate
    _gate = gate


def review_gate_apply(*, answer) -> int | None:
    if _gate is None:
        raise ImproperlyConfigured("No review gate is installed: add citadel.review to INSTALLED_APPS.")
    return _gate(answer=answer)
