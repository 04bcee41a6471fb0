from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "citadel.accounts"
    label = "accounts"
