from django.contrib.auth import views as auth_views
from django.urls import path

from citadel.accounts import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("organization/switch/", views.switch_organization, name="switch_organization"),
]
