"""The count of possible duplicates waiting, for the navigation's badge."""

from __future__ import annotations

from django import template

from kenal.identity.review import pending_pairs

register = template.Library()

# Beyond this the badge says "99+": reading at most this many index entries keeps every page
# as fast with a million pairs waiting as with ten, where a COUNT would read them all.
SHOWN_UP_TO = 99


@register.simple_tag
def pending_duplicates() -> str:
    """How many pairs wait for review, as the badge shows it ("" when none)."""
    # The queue's own query, so the badge and the queue always agree.
    found = len(pending_pairs().order_by().values_list("pk", flat=True)[: SHOWN_UP_TO + 1])
    if found > SHOWN_UP_TO:
        return f"{SHOWN_UP_TO}+"
    return str(found) if found else ""
