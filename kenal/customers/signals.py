"""Signals other capabilities listen to, so the customers app need not know them."""

from django.dispatch import Signal

# Sent after a customer's values were written through the services, with ``customer_id``
# (identity rewrites its matching keys). Bulk imports notify identity themselves, per batch.
customer_written = Signal()
