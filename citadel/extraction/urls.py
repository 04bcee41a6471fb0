from django.urls import path

from citadel.extraction import views

app_name = "extraction"
urlpatterns = views.pages.urls(
    path("<int:extraction_id>/export.csv", views.export_csv, name="export_csv"),
    path("values/<int:value_id>/review/", views.review_value, name="review_value"),
)
