from django.urls import include, path

from citadel.accounts.admin_base import site as admin_site
from citadel.answers import views as answers_views
from citadel.api.urls import urls as api_urls
from citadel.ops import views as ops_views

urlpatterns = [
    path("healthz", ops_views.healthz, name="healthz"),
    path("readyz", ops_views.readyz, name="readyz"),
    path("metrics", ops_views.metrics_view, name="metrics"),
    path("admin/", admin_site.urls),
    path("api/v1/", api_urls),
    path("documents/", include("citadel.documents.urls")),
    path("search/", include("citadel.retrieval.urls")),
    path("answers/", include("citadel.answers.urls")),
    path("summaries/", include("citadel.summaries.urls")),
    path("labels/", include("citadel.classification.urls")),
    path("sources/", include("citadel.sources.urls")),
    path("review/", include("citadel.review.urls")),
    path("reports/", include("citadel.reports.urls")),
    path("extractions/", include("citadel.extraction.urls")),
    path("evaluation/", include("citadel.evaluation.urls")),
    path("audit/", include("citadel.trail.urls")),
    path("console/gaps/", include("citadel.gaps.urls")),
    path("console/", include("citadel.console.urls")),
    path("runs/", include("citadel.jobs.urls")),
    path("notifications/", include("citadel.notifications.urls")),
    path("ops/", include("citadel.ops.urls")),
    path("", include("citadel.accounts.urls")),
    path("", answers_views.home, name="home"),
]
