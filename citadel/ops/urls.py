from django.urls import path

from citadel.ops import views

app_name = "ops"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("tasks/<str:task_id>/retry/", views.task_retry, name="task_retry"),
]
