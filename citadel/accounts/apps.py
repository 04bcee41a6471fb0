from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "citadel.accounts"
    label = "accounts"

    def ready(self) -> None:
        from citadel.accounts import signals

        signals.connect()
