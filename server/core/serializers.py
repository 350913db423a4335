from __future__ import annotations

from typing import Any

from rest_framework import serializers


class StrictSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A serializer that rejects fields it does not know, so a typo is an error, not a no-op."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({unknown[0]: ["Unknown field."]})
        return super().to_internal_value(data)


class JSONObjectField(serializers.JSONField):
    """A JSON object (dict), as configs, metadata and summaries must be."""

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        return value


class ErrorSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Documents the error shape in the OpenAPI schema."""

    class ErrorBody(serializers.Serializer):  # type: ignore[type-arg]
        code = serializers.CharField()
        message = serializers.CharField()
        field = serializers.CharField(allow_null=True)

    error = ErrorBody()
