from django.urls import path

from citadel.summaries import views

app_name = "summaries"
urlpatterns = [
    path("documents/<int:document_id>/", views.card, name="card"),
    path("documents/<int:document_id>/request/", views.request_summary, name="request"),
]
