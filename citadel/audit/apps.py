from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "citadel.audit"
    label = "audit"

    def ready(self) -> None:
        from citadel.audit import signals

        signals.connect()
