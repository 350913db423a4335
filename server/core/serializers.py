from __future__ import annotations

from typing import Any

from rest_framework import serializers

from server.core.jsonvalues import json_value_check


class StrictSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A serializer that rejects fields it does not know, so a typo is an error, not a no-op."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({unknown[0]: ["Unknown field."]})
        return super().to_internal_value(data)


def field_path(field: serializers.Field) -> str:  # type: ignore[type-arg]
    """The dotted name of a (possibly nested) serializer field, e.g. "summary"."""
    names: list[str] = []
    node: Any = field
    while node is not None:
        if node.field_name:
            names.append(node.field_name)
        node = node.parent
    return ".".join(reversed(names))


class JSONObjectField(serializers.JSONField):
    """A JSON object (dict), as configs, metadata and summaries must be, that can be stored and
    read back (server/core/jsonvalues.py: no NUL, 64-bit integers, bounded depth and size)."""

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        json_value_check(value, field=field_path(self))
        return value


class ErrorSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Documents the error shape in the OpenAPI schema."""

    class ErrorBody(serializers.Serializer):  # type: ignore[type-arg]
        code = serializers.CharField()
        message = serializers.CharField()
        field = serializers.CharField(allow_null=True)

    error = ErrorBody()
