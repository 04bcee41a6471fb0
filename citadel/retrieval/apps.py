from django.apps import AppConfig


class RetrievalConfig(AppConfig):
    name = "citadel.retrieval"
    label = "retrieval"
