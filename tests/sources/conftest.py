import pytest


@pytest.fixture
def local_network(settings):
    """The tests' servers (Dovecot, the web server, moto's S3) listen on 127.0.0.1, which sources
    reach only because the operator opened it, as CITADEL_SOURCE_ALLOWED_NETWORKS does."""
    settings.CITADEL = {**settings.CITADEL, "SOURCE_ALLOWED_NETWORKS": ["127.0.0.1/32"]}


@pytest.fixture
def folder(tmp_path):
    """A shared folder of three Markdown files, one of them in a subfolder."""
    root = tmp_path / "share"
    (root / "legal").mkdir(parents=True)
    (root / "handbook.md").write_text("# Handbook\n\nRefunds are paid within 14 days of the return.\n")
    (root / "canteen.md").write_text("# Canteen\n\nThe canteen opens at eight in the morning.\n")
    (root / "legal" / "settlement.md").write_text("# Settlement\n\nThe settlement with Initech is 40,000 dollars.\n")
    return root
