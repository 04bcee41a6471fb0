"""Which generator an organization's `generation_provider` names. The one module that knows every
adapter; the adapters import only what they share (citadel.providers.generation), never this."""

from collections.abc import Callable

from citadel.providers import anthropic_chat, openai_chat
from citadel.providers.generation import ANTHROPIC, EXTRACTIVE, OPENAI, PROVIDERS, GenerationProvider, ProviderError
from citadel.reading import extractive

_FACTORIES: dict[str, Callable[[str | None], GenerationProvider]] = {
    EXTRACTIVE: lambda model: extractive.ExtractiveGenerator.for_embedder(None),
    OPENAI: lambda model: openai_chat.OpenAIChatGenerator(model=model),
    ANTHROPIC: lambda model: anthropic_chat.AnthropicGenerator(model=model),
}


def get_generator(provider: str | None, model: str | None = None) -> GenerationProvider:
    """The generator for an organization's `generation_provider` / `generation_model`."""
    name = (provider or EXTRACTIVE).strip().lower()
    factory = _FACTORIES.get(name)
    if factory is None:
        raise ProviderError(f"Unknown generation provider {provider!r}; choose one of {', '.join(PROVIDERS)}.")
    return factory(model or None)
