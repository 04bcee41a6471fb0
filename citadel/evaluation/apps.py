from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "citadel.evaluation"
    label = "evaluation"
