from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "citadel.api"
    label = "api"
