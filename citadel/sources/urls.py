from django.urls import path

from citadel.sources import views

app_name = "sources"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:source_id>/", views.detail, name="detail"),
    path("<int:source_id>/sync/", views.sync_now, name="sync"),
    path("<int:source_id>/pause/", views.pause, name="pause"),
    path("documents/<int:document_id>/", views.origin, name="origin"),
]
