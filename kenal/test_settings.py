"""Settings for the test suite: a throwaway data folder, and PostgreSQL when
``KENAL_TEST_DATABASE_URL`` is set (SQLite otherwise)."""

from __future__ import annotations

import os
import tempfile

os.environ["KENAL_DATA_DIR"] = tempfile.mkdtemp(prefix="kenal-test-")
os.environ["KENAL_DATABASE_URL"] = os.environ.get("KENAL_TEST_DATABASE_URL", "")

from kenal.settings import *  # noqa: F403

# Argon2 stays the production hasher (checked in accounts tests); tests log in quickly.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]

# One test database per run, so suites started side by side on one server do not collide.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": f"test_kenal_{os.getpid()}"}  # noqa: F405
    # Persistent connections would keep the live server's threads attached to the test
    # database, and it could not be dropped at the end of the run.
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
