"""What an audit event keeps of a text read from documents: a digest keyed with the SECRET_KEY."""

import hashlib

from citadel.audit.services import content_digest


def test_the_same_text_has_the_same_digest_and_another_text_another():
    """Given two values, then each has one digest, so the operator can tell which one was recorded."""
    assert content_digest("60 days") == content_digest("60 days")
    assert content_digest("60 days") != content_digest("90 days")


def test_a_short_value_cannot_be_found_by_hashing_guesses(settings):
    """Given a yes/no value, when a reader of the trail hashes the guesses, then neither matches:
    the digest depends on the SECRET_KEY, which readers of the trail do not hold."""
    recorded = content_digest("yes")

    assert recorded not in {hashlib.sha256(guess.encode()).hexdigest() for guess in ("yes", "no")}
    settings.SECRET_KEY = "another-installation-" + "x" * 40
    assert content_digest("yes") != recorded
