import pytest

from citadel.providers.embeddings import embedder_cache_clear


@pytest.fixture
def minilm(settings):
    """The real all-MiniLM-L6-v2 for one test (tests marked `model`); loaded on first use, so a
    test may change its settings first."""
    settings.CITADEL = {**settings.CITADEL, "EMBEDDER": "local"}
    embedder_cache_clear()
    yield
    embedder_cache_clear()
