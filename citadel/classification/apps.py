from django.apps import AppConfig


class ClassificationConfig(AppConfig):
    name = "citadel.classification"
    label = "classification"
