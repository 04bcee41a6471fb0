from django.urls import path

from citadel.gaps import views

app_name = "gaps"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:gap_id>/", views.detail, name="detail"),
    path("<int:gap_id>/handle/", views.handle, name="handle"),
]
