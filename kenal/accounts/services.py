"""Staff users and their roles."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from kenal.accounts.models import Role, User

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
    ),
    Role.VIEWER: ("customers.view_", "activity.view_"),
}


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
