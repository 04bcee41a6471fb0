from django.apps import AppConfig


class SummariesConfig(AppConfig):
    name = "citadel.summaries"
    label = "summaries"
