from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The owners' console: usage, value, review and cost figures over a date range, and the
    documents due for review. It reads the record every other app keeps (questions, answers, review
    decisions, feedback, prompt logs) and keeps daily rollups of it so its pages stay fast."""

    name = "citadel.console"
    label = "console"
