import pytest


@pytest.fixture
def local_network(settings):
    """The tests' servers (Dovecot, the web server, moto's S3) listen on 127.0.0.1, which sources
    reach only because the operator opened it, as CITADEL_SOURCE_ALLOWED_NETWORKS does."""
    settings.CITADEL = {**settings.CITADEL, "SOURCE_ALLOWED_NETWORKS": ["127.0.0.1/32"]}
