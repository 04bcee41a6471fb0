from django.apps import AppConfig


class AnswersConfig(AppConfig):
    name = "citadel.answers"
    label = "answers"
