from django.urls import path

from citadel.classification import views

app_name = "classification"
urlpatterns = [
    path("review/", views.review, name="review"),
    path("documents/<int:document_id>/", views.card, name="card"),
    path("documents/<int:document_id>/set/", views.set_label, name="set"),
]
