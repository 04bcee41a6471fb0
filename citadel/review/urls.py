from django.urls import path

from citadel.review import views

app_name = "review"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("items/<int:item_id>/", views.item, name="item"),
    path("items/<int:item_id>/edit/", views.edit, name="edit"),
    path("items/<int:item_id>/<slug:action>/", views.decide, name="decide"),
    path("answers/<int:answer_id>/feedback/", views.feedback, name="feedback"),
    path("answers/<int:answer_id>/promote/", views.promote, name="promote"),
    path("policy/", views.policy, name="policy"),
]
