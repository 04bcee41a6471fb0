from django.urls import path

from citadel.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.index, name="index"),
    path("bell/", views.bell, name="bell"),
    path("read-all/", views.mark_all_read, name="read_all"),
    path("preferences/", views.preferences, name="preferences"),
    path("<int:notification_id>/", views.open_notification, name="open"),
    path("<int:notification_id>/read/", views.mark_read, name="read"),
]
