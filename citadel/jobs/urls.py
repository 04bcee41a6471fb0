from django.urls import path

from citadel.jobs import views

app_name = "jobs"

urlpatterns = [
    path("<slug:kind>/<int:run_id>/cancel", views.cancel, name="cancel"),
    path("<slug:kind>/<int:run_id>/retry", views.retry, name="retry"),
]
