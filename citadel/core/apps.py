from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "citadel.core"
    label = "core"
