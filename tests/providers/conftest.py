import pytest

from tests.llm_server import FakeLLMServer


@pytest.fixture
def llm_server():
    server = FakeLLMServer()
    yield server
    server.stop()


@pytest.fixture
def fast_retries(settings):
    settings.CITADEL = {
        **settings.CITADEL,
        "PROVIDER_RETRIES": 2,
        "PROVIDER_RETRY_BASE_SECONDS": 0.01,
        "PROVIDER_RETRY_MAX_SECONDS": 0.05,
        "PROVIDER_TIMEOUT_SECONDS": 1,
        "BREAKER_FAILURES": 3,
        "BREAKER_COOLDOWN_SECONDS": 60,
    }
    return settings


@pytest.fixture
def openai_env(llm_server, monkeypatch, fast_retries):
    monkeypatch.setenv("OPENAI_BASE_URL", llm_server.url + "/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.delenv("CITADEL_PROVIDER_TIMEOUT", raising=False)
    return llm_server


@pytest.fixture
def anthropic_env(llm_server, monkeypatch, fast_retries):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", llm_server.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.delenv("CITADEL_PROVIDER_TIMEOUT", raising=False)
    return llm_server
