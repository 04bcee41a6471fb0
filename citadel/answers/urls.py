from django.urls import path

from citadel.answers import views

app_name = "answers"
urlpatterns = [
    path("", views.ask, name="ask"),
    path("spend/", views.spend, name="spend"),
    path("history/", views.history, name="history"),
    path("<int:answer_id>/", views.detail, name="detail"),
    path("<int:answer_id>/receipt/", views.receipt, name="receipt"),
    path("<int:answer_id>/sources/<int:n>/", views.source, name="source"),
    path("<int:answer_id>/sources/<int:n>/page.png", views.source_page, name="source_page"),
    path("questions/<int:question_id>/", views.question, name="question"),
    path("questions/<int:question_id>/stream/", views.stream, name="stream"),
    path("questions/<int:question_id>/cancel/", views.cancel, name="cancel"),
]
