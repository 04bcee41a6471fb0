from django.urls import path

from citadel.documents import views

app_name = "documents"
urlpatterns = [
    path("", views.document_list, name="list"),
    path("upload/", views.upload, name="upload"),
    path("freshness/", views.freshness, name="freshness"),
    path("<int:document_id>/", views.document_detail, name="detail"),
    path("<int:document_id>/status/", views.document_status, name="status"),
    path("<int:document_id>/rename/", views.rename, name="rename"),
    path("<int:document_id>/archive/", views.archive, name="archive"),
    path("<int:document_id>/versions/<int:number>/retry/", views.retry, name="retry"),
    path("<int:document_id>/versions/<int:number>/download/", views.download, name="download"),
    path("<int:document_id>/versions/<int:number>/inspect/", views.inspect, name="inspect"),
    path("<int:document_id>/versions/<int:number>/text/", views.extracted_text, name="text"),
]
