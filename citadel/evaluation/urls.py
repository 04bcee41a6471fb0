from django.urls import path

from citadel.evaluation import views

app_name = "evaluation"
urlpatterns = [
    path("", views.index, name="index"),
    path("sets/", views.set_create, name="set_create"),
    path("sets/<int:eval_set_id>/", views.set_detail, name="set_detail"),
    path("sets/<int:eval_set_id>/questions/", views.question_add, name="question_add"),
    path("sets/<int:eval_set_id>/questions/import/", views.question_import, name="question_import"),
    path("sets/<int:eval_set_id>/questions/<int:question_id>/delete/", views.question_delete, name="question_delete"),
    path("sets/<int:eval_set_id>/runs/", views.run_start, name="run_start"),
    path("runs/<int:run_id>/", views.run_detail, name="run_detail"),
    path("runs/<int:run_id>/progress/", views.run_progress, name="run_progress"),
    path("runs/<int:run_id>/export/", views.run_export, name="run_export"),
    path("compare/", views.compare, name="compare"),
    path("settings/", views.settings_gate, name="settings_gate"),
    path("settings/apply/", views.settings_apply, name="settings_apply"),
]
