from django.urls import path

from citadel.retrieval import views

app_name = "retrieval"
urlpatterns = [
    path("", views.search_page, name="search"),
    path("hit-testing/", views.hit_testing, name="hit_testing"),
]
