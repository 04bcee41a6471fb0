from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "citadel.notifications"
    label = "notifications"
