from django.urls import path

from server.stats import apis

urlpatterns = [
    path(
        "projects/<str:team>/<str:project>/metric-definitions/",
        apis.MetricDefinitionsApi.as_view(),
        name="metric-definitions",
    ),
    path("projects/<str:team>/<str:project>/variants/", apis.VariantStatsApi.as_view(), name="variant-stats"),
    path("projects/<str:team>/<str:project>/curves/", apis.CurvesApi.as_view(), name="curves"),
    path("projects/<str:team>/<str:project>/tuning/", apis.TuningApi.as_view(), name="tuning"),
    path("comparisons/", apis.ComparisonListCreateApi.as_view(), name="comparisons"),
    path("comparisons/<str:comparison_id>/", apis.ComparisonDetailApi.as_view(), name="comparison-detail"),
    path("comparisons/<str:comparison_id>/export/", apis.ComparisonExportApi.as_view(), name="comparison-export"),
]
