from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "citadel.core"
    label = "core"

    def ready(self) -> None:
        from citadel.core import logs

        logs.install_record_factory()
