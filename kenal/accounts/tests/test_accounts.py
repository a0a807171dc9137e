"""Staff users, roles and password hashing."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import identify_hasher

from kenal import settings as production_settings
from kenal.accounts.models import Role
from kenal.accounts.services import UserError, create_user

GOOD_PASSWORD = "correct-horse-battery-staple"


def test_production_hashes_passwords_with_argon2() -> None:
    assert production_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


@pytest.mark.django_db
def test_argon2_hash_verifies(settings) -> None:
    settings.PASSWORD_HASHERS = production_settings.PASSWORD_HASHERS
    user = create_user("ani", "ani@contoh.id", Role.AGENT, GOOD_PASSWORD)
    assert identify_hasher(user.password).algorithm == "argon2"
    assert user.check_password(GOOD_PASSWORD)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "can_edit", "can_define_fields", "is_staff"),
    [
        (Role.ADMIN, True, True, True),
        (Role.MANAGER, True, True, True),
        (Role.AGENT, True, False, False),
        (Role.VIEWER, False, False, False),
    ],
)
def test_roles_grant_their_permissions(role, can_edit, can_define_fields, is_staff) -> None:
    user = create_user(f"user-{role}", "", role, GOOD_PASSWORD)
    assert user.has_perm("customers.view_customer")
    assert user.has_perm("customers.change_customer") is can_edit
    assert user.has_perm("customers.change_customfield") is can_define_fields
    assert user.is_staff is is_staff


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("username", "email", "role", "password", "field"),
    [
        ("", "", Role.AGENT, GOOD_PASSWORD, "username"),
        ("ani", "not-an-email", Role.AGENT, GOOD_PASSWORD, "email"),
        ("ani", "", "boss", GOOD_PASSWORD, "role"),
        ("ani", "", Role.AGENT, "12345", "password"),
    ],
)
def test_bad_user_input_names_the_field(username, email, role, password, field) -> None:
    with pytest.raises(UserError, match=f"^{field}:"):
        create_user(username, email, role, password)


@pytest.mark.django_db
def test_usernames_are_unique_ignoring_case() -> None:
    create_user("Ani", "", Role.AGENT, GOOD_PASSWORD)
    with pytest.raises(UserError, match="already taken"):
        create_user("ani", "", Role.AGENT, GOOD_PASSWORD)
