"""Who may see possible duplicates and merges, and who may decide them: one rule for the
duplicate pages (:mod:`kenal.identity.views`) and the REST API (:mod:`kenal.identity.api`)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from kenal.accounts.models import User
from kenal.accounts.services import manages

__all__ = ["VIEW_PERMISSION", "check_may_decide", "may_decide"]

# Seeing possible duplicates is part of keeping customer records right.
VIEW_PERMISSION = "customers.change_customer"


def may_decide(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether ``user`` may merge customers, undo merges and tell two people apart.

    A merge moves one customer's whole history onto another: only administrators and managers
    (:data:`~kenal.accounts.services.MANAGING_ROLES`) decide.
    """
    return manages(user, VIEW_PERMISSION)


def check_may_decide(user: User) -> None:
    """Raise :class:`PermissionDenied` saying who may decide, unless ``user`` may."""
    if not may_decide(user):
        raise PermissionDenied(
            _(
                "%(user)s (role %(role)s) may not do this: merging customers, undoing merges "
                "and deciding possible duplicates is for administrators and managers (with "
                "the permission %(permission)s)."
            )
            % {"user": user.username, "role": user.role, "permission": VIEW_PERMISSION}
        )
