from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "citadel.documents"
    label = "documents"
