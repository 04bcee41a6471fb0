"""Any OpenAI-compatible chat endpoint (OpenAI, Ollama, vLLM, llama.cpp server) via the `openai`
SDK. OPENAI_BASE_URL, OPENAI_API_KEY and OPENAI_MODEL come from the environment; the SDK's own
retries are off because citadel.providers.resilience retries (with jitter) and trips the breaker."""

import os
from collections.abc import Iterator

from citadel.providers.chat import MAX_OUTPUT_TOKENS, ChatGenerator, retry_after_seconds, timeout_seconds
from citadel.providers.generation import OPENAI, ProviderError
from citadel.providers.resilience import TransientError


class OpenAIChatGenerator(ChatGenerator):
    name = OPENAI

    def __init__(self, model: str | None = None) -> None:
        self.model = model or os.environ.get("OPENAI_MODEL", "gpt-4o-mini")
        self.base_url = os.environ.get("OPENAI_BASE_URL") or None
        super().__init__()

    def _client(self):
        from openai import OpenAI

        return OpenAI(
            base_url=self.base_url,
            api_key=os.environ.get("OPENAI_API_KEY") or "not-set",
            timeout=timeout_seconds(),
            max_retries=0,
        )

    def _messages(self, system: str, user: str) -> list[dict]:
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def _complete(self, system: str, user: str):
        response = self._client().chat.completions.create(
            model=self.model,
            messages=self._messages(system, user),
            temperature=0,
            max_tokens=MAX_OUTPUT_TOKENS,
        )
        try:
            text = response.choices[0].message.content
        except (AttributeError, IndexError, TypeError) as exc:
            raise ProviderError("The model's response had no message (malformed output).") from exc
        usage = getattr(response, "usage", None)
        return (
            text,
            getattr(usage, "prompt_tokens", None),
            getattr(usage, "completion_tokens", None),
        )

    def _open_stream(self, system: str, user: str) -> Iterator:
        stream = self._client().chat.completions.create(
            model=self.model,
            messages=self._messages(system, user),
            temperature=0,
            max_tokens=MAX_OUTPUT_TOKENS,
            stream=True,
            stream_options={"include_usage": True},
        )
        finished = False
        for chunk in stream:
            usage = getattr(chunk, "usage", None)
            if usage is not None:
                yield (getattr(usage, "prompt_tokens", None), getattr(usage, "completion_tokens", None))
            for choice in getattr(chunk, "choices", None) or []:
                delta = getattr(getattr(choice, "delta", None), "content", None)
                if delta:
                    yield delta
                finished = finished or bool(getattr(choice, "finish_reason", None))
        if not finished:
            # The SDK ends quietly on a dropped connection; an answer without a finish reason
            # is a cut-off answer.
            raise TransientError("the stream ended before the model finished", kind="truncated")

    def _translate(self, exc: Exception) -> Exception:
        import openai

        if isinstance(exc, openai.APITimeoutError):
            return TransientError("timed out", kind="timeout")
        if isinstance(exc, openai.APIConnectionError):
            return TransientError(f"connection failed: {exc}", kind="connection")
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            if status == 429 or status >= 500:
                return TransientError(f"HTTP {status}", retry_after=retry_after_seconds(exc.response), kind=str(status))
            return ProviderError(f"The provider refused the request (HTTP {status}).")
        return ProviderError(f"The provider's response could not be read ({type(exc).__name__}).")
