from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "citadel.ops"
    label = "ops"
