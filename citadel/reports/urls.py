from django.urls import path

from citadel.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("run/", views.start, name="start"),
    path("<int:report_id>/", views.detail, name="detail"),
    path("<int:report_id>/items/", views.items, name="items"),
    path("<int:report_id>/retry/", views.retry, name="retry"),
    path("<int:report_id>/receipt/", views.receipt, name="receipt"),
    path("<int:report_id>/export.md", views.export_markdown, name="export_markdown"),
    path("<int:report_id>/export.pdf", views.export_pdf, name="export_pdf"),
]
