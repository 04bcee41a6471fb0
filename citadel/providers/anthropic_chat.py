"""Anthropic's Messages API via the `anthropic` SDK. ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL and
ANTHROPIC_MODEL come from the environment; the SDK's own retries are off (see resilience)."""

import os
from collections.abc import Iterator

from citadel.providers.chat import MAX_OUTPUT_TOKENS, ChatGenerator, retry_after_seconds, timeout_seconds
from citadel.providers.generation import ANTHROPIC, ProviderError
from citadel.providers.resilience import TransientError


class AnthropicGenerator(ChatGenerator):
    name = ANTHROPIC

    def __init__(self, model: str | None = None) -> None:
        self.model = model or os.environ.get("ANTHROPIC_MODEL", "claude-sonnet-4-5")
        self.base_url = os.environ.get("ANTHROPIC_BASE_URL") or None
        super().__init__()

    def _client(self):
        from anthropic import Anthropic

        return Anthropic(
            base_url=self.base_url,
            api_key=os.environ.get("ANTHROPIC_API_KEY") or "not-set",
            timeout=timeout_seconds(),
            max_retries=0,
        )

    def _complete(self, system: str, user: str):
        response = self._client().messages.create(
            model=self.model,
            max_tokens=MAX_OUTPUT_TOKENS,
            system=system,
            messages=[{"role": "user", "content": user}],
        )
        blocks = getattr(response, "content", None)
        if not isinstance(blocks, list):
            raise ProviderError("The model's response had no content (malformed output).")
        text = "".join(getattr(b, "text", "") or "" for b in blocks if getattr(b, "type", "") == "text")
        usage = getattr(response, "usage", None)
        return text, getattr(usage, "input_tokens", None), getattr(usage, "output_tokens", None)

    def _open_stream(self, system: str, user: str) -> Iterator:
        stream = self._client().messages.create(
            model=self.model,
            max_tokens=MAX_OUTPUT_TOKENS,
            system=system,
            messages=[{"role": "user", "content": user}],
            stream=True,
        )
        finished = False
        for event in stream:
            kind = getattr(event, "type", "")
            finished = finished or kind == "message_stop"
            if kind == "message_start":
                usage = getattr(getattr(event, "message", None), "usage", None)
                yield (getattr(usage, "input_tokens", None), None)
            elif kind == "content_block_delta":
                text = getattr(getattr(event, "delta", None), "text", None)
                if text:
                    yield text
            elif kind == "message_delta":
                usage = getattr(event, "usage", None)
                yield (None, getattr(usage, "output_tokens", None))
            elif kind == "error":
                raise TransientError("the stream reported an error", kind="stream_error")
        if not finished:
            raise TransientError("the stream ended before the model finished", kind="truncated")

    def _translate(self, exc: Exception) -> Exception:
        import anthropic

        if isinstance(exc, anthropic.APITimeoutError):
            return TransientError("timed out", kind="timeout")
        if isinstance(exc, anthropic.APIConnectionError):
            return TransientError(f"connection failed: {exc}", kind="connection")
        if isinstance(exc, anthropic.APIStatusError):
            status = exc.status_code
            if status == 429 or status >= 500:
                return TransientError(f"HTTP {status}", retry_after=retry_after_seconds(exc.response), kind=str(status))
            return ProviderError(f"The provider refused the request (HTTP {status}).")
        return ProviderError(f"The provider's response could not be read ({type(exc).__name__}).")
