"""One submission on its way through :func:`~.submissions.submit`, as consent sees it too."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from kenal.customers.models import Customer
from kenal.hosted_forms.models import SignupForm
from kenal.hosted_forms.services.rendering import FormValues


@dataclass
class _Attempt:
    """One submission on its way through :func:`submit`."""

    form: SignupForm
    values: FormValues
    ticked: set[str]
    ip_hash: str
    now: dt.datetime
    language: str
    target: Customer | None  # the customer of an update link: no matching
    batch_id: str = field(default_factory=lambda: f"submission-{uuid.uuid4().hex[:16]}")
