from django.urls import path

from citadel.extraction import views

app_name = "extraction"
urlpatterns = [
    path("", views.index, name="index"),
    path("run/", views.start, name="start"),
    path("<int:extraction_id>/", views.detail, name="detail"),
    path("<int:extraction_id>/table/", views.table, name="table"),
    path("<int:extraction_id>/retry/", views.retry, name="retry"),
    path("<int:extraction_id>/export.csv", views.export_csv, name="export_csv"),
    path("values/<int:value_id>/review/", views.review_value, name="review_value"),
]
