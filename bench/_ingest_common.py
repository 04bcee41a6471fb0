"""Shared set-up of the ingestion benchmarks: Django with the real embedder, a throwaway
organization in the database of CITADEL_DATA_DIR (use a data dir of its own)."""

import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("CITADEL_EMBEDDER", "local")

import django  # noqa: E402

django.setup()

from django.core.files.base import ContentFile  # noqa: E402
from django.core.management import call_command  # noqa: E402

from citadel.accounts.selectors import principal_for  # noqa: E402
from citadel.accounts.services import organization_create, user_create_or_join  # noqa: E402
from citadel.documents.services import document_upload  # noqa: E402
from citadel.ingestion.services import version_run  # noqa: E402
from citadel.providers.embeddings import get_embedder  # noqa: E402

WORDS = (
    "policy employee manager approval travel expense receipt budget laptop security password badge office "
    "meeting deadline contract invoice vendor training leave holiday benefit insurance pension review report "
    "customer refund incident response backup retention archive compliance audit payroll onboarding"
).split()


def sentence(seed: int, length: int = 14) -> str:
    words = [WORDS[(seed * 7 + i * 13 + (seed // 3) * i) % len(WORDS)] for i in range(length)]
    return " ".join(words).capitalize() + f" (clause {seed})."


def setup_principal():
    call_command("migrate", verbosity=0)
    slug = f"bench-{uuid.uuid4().hex[:8]}"
    org = organization_create(slug=slug, name="Benchmark")
    user, _ = user_create_or_join(username=f"{slug}-admin", organization=org, role="admin")
    return org, principal_for(user=user, organization=org)


def ingest(principal, filename: str, data: bytes, external_id: str):
    start = time.perf_counter()
    result = document_upload(
        principal=principal,
        file=ContentFile(data, name=filename),
        filename=filename,
        external_id=external_id,
        enqueue=False,
    )
    version_run(version_id=result.version.pk)
    elapsed = time.perf_counter() - start
    result.version.refresh_from_db()
    assert result.version.status == "ready", (result.version.error_class, result.version.error_message)
    return result.version, elapsed


def embedder(org):
    model = get_embedder(org.embedding_model)
    model.embed(["warm up the model"] * 8)  # loading the weights is not part of either figure
    return model


def cleanup(org) -> None:
    org.delete()
