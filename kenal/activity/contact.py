"""Who last spoke to a customer, and whether a staff member should think twice before
contacting them: the customer asked not to be contacted, or a colleague contacted them within
``settings.KENAL_CONTACT_WARNING_DAYS`` days (0 turns that part off)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from kenal.accounts.models import User
from kenal.activity.models import CustomerTraits, Interaction
from kenal.customers.models import Customer

__all__ = [
    "LastContact",
    "Warning",
    "contact_warning",
    "last_contact",
    "traits_of",
    "warning_days",
]


@dataclass(frozen=True)
class LastContact:
    """The latest interaction with a customer: who, when, and how."""

    at: datetime.datetime
    by: str
    channel: str


@dataclass(frozen=True)
class Warning:  # shadows the built-in only here: import the module, use contact.Warning
    """Why a staff member is warned before contacting a customer.

    ``do_not_contact``: the customer is marked so. ``colleague``: the latest contact by
    another staff member within the period, if any.
    """

    do_not_contact: bool
    colleague: LastContact | None
    days: int

    @property
    def reasons(self) -> list[str]:
        """Each reason as a sentence for the staff member."""
        reasons = []
        if self.do_not_contact:
            reasons.append(_("This customer is marked do not contact."))
        if self.colleague is not None:
            reasons.append(
                _(
                    "%(by)s contacted this customer on %(date)s via %(channel)s, "
                    "within the last %(days)d days."
                )
                % {
                    "by": self.colleague.by,
                    "date": date_format(timezone.localtime(self.colleague.at), "j M Y, H:i"),
                    "channel": self.colleague.channel,
                    "days": self.days,
                }
            )
        return reasons


def warning_days() -> int:
    """How many days back a colleague's contact warns (``KENAL_CONTACT_WARNING_DAYS``)."""
    days: int = settings.KENAL_CONTACT_WARNING_DAYS
    return days


def contact_warning(customer: Customer, user: User) -> Warning | None:
    """The warning ``user`` sees before contacting ``customer``, or None when all is clear."""
    days = warning_days()
    colleague = _colleague_contact(customer, user, days) if days else None
    if not customer.do_not_contact and colleague is None:
        return None
    return Warning(do_not_contact=customer.do_not_contact, colleague=colleague, days=days)


def _colleague_contact(customer: Customer, user: User, days: int) -> LastContact | None:
    since = timezone.now() - datetime.timedelta(days=days)
    latest = (
        Interaction.objects.filter(customer=customer, occurred_at__gte=since, staff__isnull=False)
        .exclude(staff=user)
        .select_related("staff")
        .order_by("-occurred_at", "-id")
        .first()
    )
    if latest is None:
        return None
    return LastContact(at=latest.occurred_at, by=str(latest.staff), channel=_channel(latest))


def _channel(interaction: Interaction) -> str:
    return interaction.channel or str(interaction.get_kind_display())


def traits_of(customer: Customer) -> CustomerTraits | None:
    """The customer's computed traits, or None for a customer with no activity yet."""
    try:
        return customer.traits
    except CustomerTraits.DoesNotExist:
        return None


def last_contact(customer: Customer) -> LastContact | None:
    """Who last contacted ``customer``, when and how, as their traits have it."""
    traits = traits_of(customer)
    if traits is None or traits.last_contact_at is None:
        return None
    channel = traits.last_contact_channel
    if channel in Interaction.Kind.values:
        channel = str(Interaction.Kind(channel).label)
    by = str(traits.last_contact_by) if traits.last_contact_by_id else _("someone")
    return LastContact(at=traits.last_contact_at, by=by, channel=channel)
