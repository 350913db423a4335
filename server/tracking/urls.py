from django.urls import path

from server.tracking import apis

urlpatterns = [
    path("projects/", apis.ProjectListCreateApi.as_view(), name="projects"),
    path("projects/<str:team>/<str:project>/", apis.ProjectDetailApi.as_view(), name="project-detail"),
    path("projects/<str:team>/<str:project>/metrics/", apis.ProjectMetricsApi.as_view(), name="project-metrics"),
    path("projects/<str:team>/<str:project>/export/", apis.ProjectExportApi.as_view(), name="project-export"),
    path("runs/", apis.RunListCreateApi.as_view(), name="runs"),
    path("runs/<str:run_id>/", apis.RunDetailApi.as_view(), name="run-detail"),
    path("runs/<str:run_id>/resume/", apis.RunResumeApi.as_view(), name="run-resume"),
    path("runs/<str:run_id>/metrics/", apis.RunMetricsApi.as_view(), name="run-metrics"),
    path("variants/", apis.VariantListApi.as_view(), name="variants"),
]
