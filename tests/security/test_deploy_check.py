"""The production profile passes Django's deployment checklist, and refuses to start without a
real secret key."""

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.slow


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY"}}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_check_deploy_passes_under_the_production_profile():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        CITADEL_PROFILE="production",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="citadel.example",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", CITADEL_PROFILE="production", ALLOWED_HOSTS="citadel.example")

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
