from django.urls import path

from server.benchmarks import apis

urlpatterns = [
    path("benchmarks/", apis.BenchmarkListCreateApi.as_view(), name="benchmarks"),
    path("benchmarks/<str:slug>/", apis.BenchmarkDetailApi.as_view(), name="benchmark-detail"),
    path("benchmarks/<str:slug>/leaderboard/", apis.LeaderboardApi.as_view(), name="benchmark-leaderboard"),
    path("benchmarks/<str:slug>/submissions/", apis.SubmissionListCreateApi.as_view(), name="benchmark-submissions"),
    path(
        "benchmarks/<str:slug>/submissions/<int:submission_id>/",
        apis.SubmissionDetailApi.as_view(),
        name="benchmark-submission-detail",
    ),
]
