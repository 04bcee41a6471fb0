"""What the tests do when a server they start is not installed."""

import os

import pytest


def missing(reason: str) -> None:
    """A server the tests start is not installed: `make test` skips its tests with the reason; CI
    (CITADEL_TESTS_REQUIRE_SERVERS=1, set by .ci/run) fails, so nothing is skipped there unseen."""
    if os.environ.get("CITADEL_TESTS_REQUIRE_SERVERS") == "1":
        pytest.fail(reason)
    pytest.skip(reason)
