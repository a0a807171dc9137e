"""Staff users, their roles and their API keys."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.apps import apps
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kenal.accounts.models import API_KEY_MARK, ApiKey, Role, User

# Each role's permissions, as "app_label.codename" prefixes ("customers.view_" = every view).
ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.ADMIN: (),  # administrators are superusers
    Role.MANAGER: tuple(
        f"{app}.{action}_"
        for app in ("customers", "activity", "hosted_forms", "ingest")
        for action in ("view", "add", "change", "delete")
    ),
    # Agents keep customer records up to date but do not change the data model.
    Role.AGENT: (
        "customers.view_",
        "activity.view_",
        "customers.add_customer",
        "customers.change_customer",
        *(
            f"customers.{action}_{model}"
            for model in ("customeremail", "customerphone", "address", "customfieldvalue")
            for action in ("add", "change", "delete")
        ),
        "customers.add_note",
        "customers.add_tag",
        "activity.add_",
        "activity.change_ticket",
        "activity.change_subscription",
    ),
    Role.VIEWER: ("customers.view_", "activity.view_"),
}


# The roles that manage what shapes every customer record (custom fields, survivorship rules)
# and decide merges; the permission groups alone do not say this.
MANAGING_ROLES = frozenset({Role.ADMIN, Role.MANAGER})


class UserError(ValueError):
    """A user could not be created; the message names the field and the value."""


def sync_role_groups() -> None:
    """Create or refresh one permission group per role (run after every migrate)."""
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    permissions = list(Permission.objects.select_related("content_type"))
    for role, prefixes in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        granted = [
            permission
            for permission in permissions
            if any(
                f"{permission.content_type.app_label}.{permission.codename}".startswith(prefix)
                for prefix in prefixes
            )
        ]
        group.permissions.set(granted)


@transaction.atomic
def create_user(username: str, email: str, role: str, password: str) -> User:
    """Create a staff user with a role; every problem is reported with its field."""
    username = username.strip()
    if not username:
        raise UserError("username: must not be empty")
    if User.objects.filter(username__iexact=username).exists():
        raise UserError(f"username: {username!r} is already taken")
    email = email.strip()
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise UserError(f"email: {email!r} is not a valid email address") from exc
    if role not in Role.values:
        raise UserError(f"role: {role!r} is not a role; expected one of {', '.join(Role.values)}")
    user = User(username=username, email=email, role=role)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise UserError("password: " + " ".join(exc.messages)) from exc
    user.set_password(password)
    apply_role(user, Role(role))
    return user


def apply_role(user: User, role: Role) -> None:
    """Save ``user`` with ``role``, its staff flags and its permission group."""
    user.role = role
    user.is_superuser = role == Role.ADMIN
    user.is_staff = role in (Role.ADMIN, Role.MANAGER)
    user.save()
    user.groups.set(Group.objects.filter(name=role.value))


def manages(user: AbstractBaseUser | AnonymousUser, *permissions: str) -> bool:
    """Whether ``user`` is active and a superuser, or active in one of the
    :data:`MANAGING_ROLES` and holding ``permissions``."""
    if not isinstance(user, User) or not user.is_active:
        return False
    return user.is_superuser or (
        user.role in MANAGING_ROLES and all(user.has_perm(permission) for permission in permissions)
    )


def check_permissions(user: User, permissions: Iterable[str]) -> None:
    """Raise :class:`PermissionDenied` naming the first of ``permissions`` ``user`` lacks."""
    for permission in permissions:
        if not user.has_perm(permission):
            raise PermissionDenied(
                _(
                    "%(user)s (role %(role)s) may not do this: it needs the permission "
                    "%(permission)s."
                )
                % {"user": user.username, "role": user.role, "permission": permission}
            )


# --- API keys -------------------------------------------------------------------------------

# Bytes of randomness in a key: 256 bits, which no one can guess or brute-force.
API_KEY_BYTES = 32
API_KEY_NAME_LENGTH = ApiKey._meta.get_field("name").max_length or 100
# How stale ``last_used_at`` may get: recording every request would turn each read into a
# write (and SQLite has one writer at a time); to the minute is enough to spot unused keys.
LAST_USED_PRECISION = timedelta(minutes=1)


class ApiKeyError(ValueError):
    """A key could not be created: ``field`` and what is wrong with its value."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(field, problem)
        self.field = field
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.field}: {self.problem}"


class ApiKeyRefused(ValueError):
    """A request's key is unknown, revoked or belongs to a deactivated user."""


def _digest(key: str) -> str:
    """The SHA-256 of a key: what is stored and looked up.

    A fast hash is enough here, unlike for passwords: a key is 256 random bits, so there is
    nothing to guess from a digest, while a slow hash (Argon2, PBKDF2) would cost tens of
    milliseconds on every request and could not be looked up through an index.
    """
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(name: str, user: User, created_by: User | None = None) -> tuple[ApiKey, str]:
    """A new key acting as ``user``, and the key itself: shown once, never stored."""
    name = name.strip()
    if not name:
        raise ApiKeyError("name", _("must not be empty"))
    if len(name) > API_KEY_NAME_LENGTH:
        raise ApiKeyError(
            "name",
            _("%(name)r is longer than %(limit)d characters")
            % {"name": name, "limit": API_KEY_NAME_LENGTH},
        )
    if not user.is_active:
        raise ApiKeyError(
            "user",
            _("%(username)r is deactivated; a key must act as an active user")
            % {"username": user.username},
        )
    secret = secrets.token_urlsafe(API_KEY_BYTES)
    key = API_KEY_MARK + secret
    api_key = ApiKey.objects.create(
        name=name,
        user=user,
        prefix=secret[:8],
        key_hash=_digest(key),
        created_by=created_by,
    )
    return api_key, key


def revoke_api_key(api_key: ApiKey) -> ApiKey:
    """Refuse the key from now on; revoking a revoked key keeps its first revocation time."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def authenticate_api_key(key: str) -> User:
    """The user a key acts as; raises :class:`ApiKeyRefused` saying why a key is refused."""
    api_key = ApiKey.objects.select_related("user").filter(key_hash=_digest(key.strip())).first()
    if api_key is None:
        raise ApiKeyRefused(_("The API key is not valid."))
    if api_key.revoked_at is not None:
        raise ApiKeyRefused(
            _("The API key %(key)s was revoked on %(when)s.")
            % {
                "key": api_key.display_prefix,
                "when": api_key.revoked_at.isoformat(timespec="seconds"),
            }
        )
    if not api_key.user.is_active:
        raise ApiKeyRefused(
            _("The API key %(key)s acts as %(user)s, who is deactivated.")
            % {"key": api_key.display_prefix, "user": api_key.user.username}
        )
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_PRECISION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    return api_key.user
