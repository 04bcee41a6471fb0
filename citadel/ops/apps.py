from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "citadel.ops"
    label = "ops"

    def ready(self) -> None:
        from citadel.ops import signals

        signals.connect()
