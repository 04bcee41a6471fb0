from django.urls import path

from citadel.reports import views

app_name = "reports"
urlpatterns = views.pages.urls(
    path("<int:report_id>/receipt/", views.receipt, name="receipt"),
    path("<int:report_id>/export.md", views.export_markdown, name="export_markdown"),
    path("<int:report_id>/export.pdf", views.export_pdf, name="export_pdf"),
)
