from django.urls import path

from server.accounts import apis

urlpatterns = [
    path("auth/whoami/", apis.WhoAmIApi.as_view(), name="whoami"),
    path("tokens/", apis.TokenListCreateApi.as_view(), name="tokens"),
    path("tokens/<str:prefix>/", apis.TokenDetailApi.as_view(), name="token-detail"),
    path("teams/", apis.TeamListCreateApi.as_view(), name="teams"),
    path("teams/<str:team>/", apis.TeamDetailApi.as_view(), name="team-detail"),
    path("teams/<str:team>/members/", apis.TeamMembersApi.as_view(), name="team-members"),
    path("teams/<str:team>/members/<str:username>/", apis.TeamMemberDetailApi.as_view(), name="team-member-detail"),
    path("teams/<str:team>/tokens/", apis.TeamTokensApi.as_view(), name="team-tokens"),
    path("teams/<str:team>/tokens/<str:prefix>/", apis.TeamTokenDetailApi.as_view(), name="team-token-detail"),
    path("teams/<str:team>/audit/", apis.TeamAuditApi.as_view(), name="team-audit"),
]
