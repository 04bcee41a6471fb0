from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "citadel.review"
    label = "review"
