from django.urls import path

from citadel.console import views

app_name = "console"
urlpatterns = [
    path("", views.index, name="index"),
    path("daily.csv", views.daily_csv, name="daily_csv"),
]
