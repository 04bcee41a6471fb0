from django.apps import AppConfig


class ExtractionConfig(AppConfig):
    name = "citadel.extraction"
    label = "extraction"
