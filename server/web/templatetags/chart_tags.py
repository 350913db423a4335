"""Template helpers of the pages' charts."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# As Django's json_script: inside <script>, "</script>" or "<!--" in a string must not end it.
SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.filter
def json_text_script(text: str, element_id: str) -> SafeString:
    """JSON already serialised (a cached chart spec) in a script element, as `json_script` writes one."""
    return format_html(
        '<script id="{}" type="application/json">{}</script>', element_id, mark_safe(text.translate(SCRIPT_ESCAPES))
    )
