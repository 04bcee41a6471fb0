from django.apps import AppConfig


class SourcesConfig(AppConfig):
    name = "citadel.sources"
    label = "sources"
