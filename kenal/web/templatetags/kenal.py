"""Small display helpers shared by Kenal's templates."""

from __future__ import annotations

import phonenumbers
from django import template
from django.conf import settings
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def phone(value: object) -> str:
    """An E.164 number as people read it: "+6281234567890" shows as "+62 812-3456-7890"."""
    text = "" if value is None else str(value)
    try:
        number = phonenumbers.parse(text, getattr(settings, "KENAL_PHONE_REGION", "ID"))
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_valid_number(number):
        return text
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@register.filter
def initials(value: object) -> str:
    """Up to two initials of a name, for an avatar: "Budi Santoso" gives "BS"."""
    words = [word for word in str(value or "").split() if word[:1].isalpha()]
    if not words:
        return "#"
    letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return letters.upper()


@register.filter
def email_wrap(value: object) -> SafeString:
    """An email address that a narrow column wraps before the "@", not mid-word."""
    local, at, domain = str(value or "").partition("@")
    if not at:
        return conditional_escape(local)
    return format_html("{}<wbr>@{}", local, domain)
