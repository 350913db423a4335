from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from server.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/v1/", include("server.accounts.urls")),
    path("api/v1/", include("server.tracking.urls")),
    path("api/v1/", include("server.stats.urls")),
    path("api/v1/", include("server.benchmarks.urls")),
    # Before the pages: MLflow clients log here with MLFLOW_TRACKING_URI=<server>/mlflow.
    path("mlflow/", include("server.mlflow_compat.urls")),
    path("", include("server.web.urls")),
]

# JSON under /api/, HTML pages elsewhere.
handler400 = "server.web.errors.bad_request"
handler404 = "server.web.errors.not_found"
handler500 = "server.web.errors.server_error"
