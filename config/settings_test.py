"""Test settings: the real embedded PostgreSQL, a fake embedder and in-process tasks."""

from config.settings import *  # noqa: F403
from config.settings import CITADEL

CITADEL["EMBEDDER"] = "fake"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {
    "default": {
        "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default", "ingestion", "answers", "maintenance"],
    }
}
