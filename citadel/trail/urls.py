from django.urls import path

from citadel.trail import views

app_name = "audit"
urlpatterns = [
    path("", views.events, name="events"),
    path("export/", views.export, name="export"),
    path("break-glass/", views.break_glass, name="break_glass"),
    path("prompt-logs/", views.prompt_logs, name="prompt_logs"),
    path("prompt-logs/<int:log_id>/", views.prompt_log_detail, name="prompt_log"),
    path("timeline/", views.timeline, name="timeline"),
]
