"""What the OpenAI-compatible and Anthropic adapters share: prompt building, resilience,
stream handling and the translation of SDK errors into ours."""

import os
from abc import ABC, abstractmethod
from collections.abc import Iterator

from citadel.providers import text as T
from citadel.providers.generation import ABSTAIN_TOKEN, Generation, ProviderError, SourcePassage
from citadel.providers.prompting import build_messages, prompt_text, split_uncovered
from citadel.providers.resilience import CircuitBreaker, TransientError, call_resilient, knob

MAX_OUTPUT_TOKENS = 800


def retry_after_seconds(response) -> float | None:
    try:
        value = response.headers.get("retry-after") if response is not None else None
        return float(value) if value else None
    except (TypeError, ValueError, AttributeError):
        return None


def timeout_seconds() -> float:
    return float(os.environ.get("CITADEL_PROVIDER_TIMEOUT", knob("PROVIDER_TIMEOUT_SECONDS", 30)))


def is_abstention(text: str) -> bool:
    return ABSTAIN_TOKEN in text.strip().upper().replace(" ", "_")[: len(ABSTAIN_TOKEN) + 8]


class ChatGenerator(ABC):
    """Subclasses implement `_complete`, `_open_stream` and `_translate`."""

    name = ""
    model = ""
    streams = True
    base_url: str | None = None

    def __init__(self) -> None:
        self.breaker = CircuitBreaker(f"{self.name}:{self.base_url or 'default'}")

    # -- subclass hooks -------------------------------------------------------------------------
    @abstractmethod
    def _complete(self, system: str, user: str) -> tuple[str, int | None, int | None]: ...

    @abstractmethod
    def _open_stream(self, system: str, user: str) -> Iterator[str | tuple[int | None, int | None]]:
        """Text deltas, and (tokens_in, tokens_out) tuples whenever usage is reported."""

    @abstractmethod
    def _translate(self, exc: Exception) -> Exception: ...

    # -- protocol ---------------------------------------------------------------------------------
    def generate(self, *, question: str, passages: list[SourcePassage]) -> Generation:
        system, user = build_messages(question=question, passages=passages)
        (text, tokens_in, tokens_out), attempts = self._completion(system, user)
        return self._finish(system, user, text, tokens_in, tokens_out, attempts)

    def complete(self, *, system: str, user: str) -> Generation:
        """A plain completion for a task that is not an answer (rewriting a follow-up): the same
        retries, breaker and error translation; the text comes back as the model wrote it."""
        (text, tokens_in, tokens_out), attempts = self._completion(system, user)
        if not isinstance(text, str) or not text.strip():
            raise ProviderError(f"{self.name} returned no text (malformed or empty output).")
        return Generation(
            text=text.strip(),
            model=self.model,
            tokens_in=tokens_in if tokens_in is not None else T.estimate_tokens(system + user),
            tokens_out=tokens_out if tokens_out is not None else T.estimate_tokens(text),
            prompt_text=prompt_text(system, user),
            attempts=attempts,
        )

    def stream(self, *, question: str, passages: list[SourcePassage]) -> Iterator[str | Generation]:
        system, user = build_messages(question=question, passages=passages)

        # Only opening the stream (up to the first event) is retried: once text has reached the
        # asker, a retry would show them a different answer glued to the first.
        def open_stream():
            try:
                events = self._open_stream(system, user)
                first = next(events, None)
                return events, first
            except (TransientError, ProviderError):
                raise
            except Exception as exc:  # noqa: BLE001
                raise self._translate(exc) from exc

        (events, first), attempts = call_resilient(open_stream, breaker=self.breaker)
        parts: list[str] = []
        tokens_in = tokens_out = None
        pending = [first] if first is not None else []
        try:
            while True:
                event = pending.pop() if pending else next(events)
                if isinstance(event, tuple):
                    tokens_in = event[0] if event[0] is not None else tokens_in
                    tokens_out = event[1] if event[1] is not None else tokens_out
                elif event:
                    parts.append(event)
                    yield event
        except StopIteration:
            pass
        except ProviderError:
            raise
        except TransientError as exc:
            self.breaker.record_failure()
            raise self._unavailable(exc) from exc
        except GeneratorExit:
            close = getattr(events, "close", None)
            if close:
                close()
            raise
        except Exception as exc:  # noqa: BLE001
            translated = self._translate(exc)
            if isinstance(translated, TransientError):
                self.breaker.record_failure()
                raise self._unavailable(translated) from exc
            raise translated from exc
        yield self._finish(system, user, "".join(parts), tokens_in, tokens_out, attempts)

    # -- helpers ------------------------------------------------------------------------------------
    def _completion(self, system: str, user: str) -> tuple[tuple[str, int | None, int | None], int]:
        def call():
            try:
                return self._complete(system, user)
            except (TransientError, ProviderError):
                raise
            except Exception as exc:  # noqa: BLE001 - every SDK failure is translated, none escapes raw
                raise self._translate(exc) from exc

        return call_resilient(call, breaker=self.breaker)

    def _unavailable(self, exc: Exception):
        from citadel.providers.generation import ProviderUnavailable

        return ProviderUnavailable(f"{self.name} stopped mid-answer: {exc}")

    def _finish(self, system, user, text, tokens_in, tokens_out, attempts) -> Generation:
        if not isinstance(text, str) or not text.strip():
            raise ProviderError(f"{self.name} returned no answer text (malformed or empty output).")
        prompt = prompt_text(system, user)
        answer, uncovered = split_uncovered(text.strip())
        return Generation(
            text=answer,
            model=self.model,
            tokens_in=tokens_in if tokens_in is not None else T.estimate_tokens(system + user),
            tokens_out=tokens_out if tokens_out is not None else T.estimate_tokens(text),
            abstained=is_abstention(text) or not answer,
            uncovered=uncovered,
            prompt_text=prompt,
            attempts=attempts,
            details={"usage_reported": tokens_in is not None and tokens_out is not None},
        )
