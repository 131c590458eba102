"""Display helpers for the pages: pure functions of one value, no database access."""

from __future__ import annotations

import phonenumbers
from django import template
from django.utils.formats import number_format
from django.utils.translation import get_language, get_language_info, gettext

from cordee.collect import normalise as norm

register = template.Library()


@register.filter
def country(code: str | None) -> str:
    """'DE' -> 'Allemagne' ('Germany' on an English page); an unknown code stays as it is."""
    if not code:
        return ""
    language = "en" if (get_language() or "fr").startswith("en") else "fr"
    try:
        return norm.country_name(code, language)
    except norm.InvalidValue:
        return code


@register.filter
def phone(value: str | None) -> str:
    """'+33612345678' -> '+33 6 12 34 56 78': E.164 is for machines."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@register.filter
def language_name(code: str | None) -> str:
    if not code:
        return ""
    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return code


@register.filter
def duration(seconds: float | None) -> str:
    """3.2 -> '3,2 s', 125 -> '2 min 05 s'."""
    if seconds is None:
        return ""
    if seconds < 60:
        return gettext("%(seconds)s s") % {"seconds": number_format(round(seconds, 1), 1)}
    minutes, rest = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return gettext("%(minutes)d min %(seconds)02d s") % {"minutes": minutes, "seconds": rest}
    hours, minutes = divmod(minutes, 60)
    return gettext("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": minutes}
