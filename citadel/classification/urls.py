from django.urls import path
from django.views.generic import RedirectView

from citadel.classification import views

app_name = "classification"
urlpatterns = [
    # The section's own address leads to its page (the review page says who may see it).
    path("", RedirectView.as_view(pattern_name="classification:review"), name="index"),
    path("review/", views.review, name="review"),
    path("documents/<int:document_id>/", views.card, name="card"),
    path("documents/<int:document_id>/set/", views.set_label, name="set"),
]
