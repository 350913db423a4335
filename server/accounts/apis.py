from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from server.accounts.authentication import request_user
from server.accounts.selectors import team_slugs_for
from server.core.serializers import ErrorSerializer


class WhoAmIApi(APIView):
    @extend_schema(
        operation_id="auth_whoami",
        responses={
            200: inline_serializer(
                "WhoAmI",
                {"user": serializers.CharField(), "teams": serializers.ListField(child=serializers.CharField())},
            ),
            401: ErrorSerializer,
        },
    )
    def get(self, request: Request) -> Response:
        user = request_user(request)
        return Response({"user": user.get_username(), "teams": team_slugs_for(user=user)})
