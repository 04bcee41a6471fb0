from django.apps import AppConfig


class GapsConfig(AppConfig):
    """Content gaps: what members ask that the documents do not answer (abstained, partial and
    not-helpful questions grouped by meaning), and which documents are never or most cited."""

    name = "citadel.gaps"
    label = "gaps"
