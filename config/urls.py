from django.urls import include, path

from citadel.accounts.admin_base import site as admin_site

urlpatterns = [
    path("admin/", admin_site.urls),
    path("documents/", include("citadel.documents.urls")),
    path("search/", include("citadel.retrieval.urls")),
    path("answers/", include("citadel.answers.urls")),
    path("review/", include("citadel.review.urls")),
    path("evaluation/", include("citadel.evaluation.urls")),
    path("audit/", include("citadel.audit.urls")),
    path("ops/", include("citadel.ops.urls")),
    path("", include("citadel.accounts.urls")),
]
