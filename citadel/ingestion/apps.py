from django.apps import AppConfig


class IngestionConfig(AppConfig):
    name = "citadel.ingestion"
    label = "ingestion"
