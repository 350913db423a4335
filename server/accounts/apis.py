"""HTTP adapters of the accounts API: tokens, teams and their members, the team audit log."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from server.accounts import selectors, services
from server.accounts.authentication import request_user
from server.accounts.serializers import (
    AuditEventOutput,
    MemberAddedOutput,
    MemberAddInput,
    MemberOutput,
    MemberUpdateInput,
    TeamCreateInput,
    TeamDetailOutput,
    TeamOutput,
    TeamTokenOutput,
    TokenCreatedOutput,
    TokenCreateInput,
    TokenOutput,
)
from server.core.api import ERRORS, checked
from server.core.serializers import ErrorSerializer


class WhoAmIApi(APIView):
    @extend_schema(
        operation_id="auth_whoami",
        responses={
            200: inline_serializer(
                "WhoAmI",
                {
                    "user": serializers.CharField(),
                    "teams": serializers.ListField(child=serializers.CharField()),
                    "scope": serializers.CharField(help_text="The token's scope: read or write."),
                },
            ),
            401: ErrorSerializer,
        },
    )
    def get(self, request: Request) -> Response:
        user = request_user(request)
        scope = getattr(request.auth, "scope", None)
        return Response({"user": user.get_username(), "teams": selectors.team_slugs_for(user=user), "scope": scope})


class TokenListCreateApi(APIView):
    @extend_schema(operation_id="tokens_list", responses={200: TokenOutput(many=True), **ERRORS})
    def get(self, request: Request) -> Response:
        return Response(TokenOutput(selectors.token_list_for(user=request_user(request)), many=True).data)

    @extend_schema(
        operation_id="tokens_create", request=TokenCreateInput, responses={201: TokenCreatedOutput, **ERRORS}
    )
    def post(self, request: Request) -> Response:
        data = checked(TokenCreateInput, request.data)
        text, token = services.token_create(user=request_user(request), request=request, **data)
        return Response({**TokenOutput(token).data, "token": text}, status=201)


class TokenDetailApi(APIView):
    @extend_schema(operation_id="tokens_revoke", responses={204: None, **ERRORS})
    def delete(self, request: Request, prefix: str) -> Response:
        user = request_user(request)
        services.token_revoke(prefix=prefix, user=user, actor=user, request=request)
        return Response(status=204)


class TeamListCreateApi(APIView):
    @extend_schema(operation_id="teams_list", responses={200: TeamOutput(many=True), **ERRORS})
    def get(self, request: Request) -> Response:
        memberships = selectors.team_list_for(user=request_user(request))
        return Response(
            [{"slug": m.team.slug, "name": m.team.name, "role": m.role} for m in memberships],
        )

    @extend_schema(
        operation_id="teams_create",
        request=TeamCreateInput,
        responses={201: TeamOutput, 409: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = checked(TeamCreateInput, request.data)
        team = services.team_create(creator=request_user(request), request=request, **data)
        return Response({"slug": team.slug, "name": team.name, "role": "admin"}, status=201)


class TeamDetailApi(APIView):
    @extend_schema(operation_id="teams_retrieve", responses={200: TeamDetailOutput, **ERRORS})
    def get(self, request: Request, team: str) -> Response:
        found = selectors.team_get_for(user=request_user(request), slug=team)
        members = MemberOutput(selectors.member_list(team=found), many=True).data
        return Response({"slug": found.slug, "name": found.name, "role": found.role, "members": members})  # type: ignore[attr-defined]


class TeamMembersApi(APIView):
    @extend_schema(
        operation_id="teams_members_add",
        request=MemberAddInput,
        responses={201: MemberAddedOutput, 409: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request, team: str) -> Response:
        data = checked(MemberAddInput, request.data)
        user = request_user(request)
        found = selectors.team_get_for(user=user, slug=team, need="admin")
        membership, password = services.member_add(team=found, actor=user, request=request, **data)
        return Response({**MemberOutput(membership).data, "password": password}, status=201)


class TeamMemberDetailApi(APIView):
    @extend_schema(
        operation_id="teams_members_update",
        request=MemberUpdateInput,
        responses={200: MemberOutput, 409: ErrorSerializer, **ERRORS},
    )
    def patch(self, request: Request, team: str, username: str) -> Response:
        data = checked(MemberUpdateInput, request.data)
        user = request_user(request)
        found = selectors.team_get_for(user=user, slug=team, need="admin")
        membership = services.member_role_set(team=found, username=username, actor=user, request=request, **data)
        return Response(MemberOutput(membership).data)

    @extend_schema(operation_id="teams_members_remove", responses={204: None, 409: ErrorSerializer, **ERRORS})
    def delete(self, request: Request, team: str, username: str) -> Response:
        user = request_user(request)
        # Anyone may leave a team; removing someone else takes an admin.
        need: selectors.Need = "read" if username == user.get_username() else "admin"
        found = selectors.team_get_for(user=user, slug=team, need=need)
        services.member_remove(team=found, username=username, actor=user, request=request)
        return Response(status=204)


class TeamTokensApi(APIView):
    @extend_schema(operation_id="teams_tokens_list", responses={200: TeamTokenOutput(many=True), **ERRORS})
    def get(self, request: Request, team: str) -> Response:
        found = selectors.team_get_for(user=request_user(request), slug=team, need="admin")
        return Response(TeamTokenOutput(selectors.token_list_for_team(team=found), many=True).data)


class TeamTokenDetailApi(APIView):
    @extend_schema(operation_id="teams_tokens_revoke", responses={204: None, **ERRORS})
    def delete(self, request: Request, team: str, prefix: str) -> Response:
        user = request_user(request)
        found = selectors.team_get_for(user=user, slug=team, need="admin")
        services.token_revoke(prefix=prefix, team=found, actor=user, request=request)
        return Response(status=204)


class TeamAuditApi(APIView):
    @extend_schema(operation_id="teams_audit", responses={200: AuditEventOutput(many=True), **ERRORS})
    def get(self, request: Request, team: str) -> Response:
        found = selectors.team_get_for(user=request_user(request), slug=team, need="admin")
        return Response(AuditEventOutput(selectors.audit_list(team=found), many=True).data)
