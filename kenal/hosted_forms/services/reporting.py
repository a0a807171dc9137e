"""Reporting on a form's submissions."""

from __future__ import annotations

from django.db.models import Count

from kenal.hosted_forms.models import FormSubmission, SignupForm


def submission_counts(form: SignupForm) -> dict[str, int]:
    """Submissions by outcome, with the total and the confirmed double opt-ins."""
    rows = form.submissions.values("outcome").annotate(count=Count("id")).order_by()
    counts = {outcome: 0 for outcome in FormSubmission.Outcome.values}
    counts.update({row["outcome"]: row["count"] for row in rows})
    counts["total"] = sum(counts.values())
    counts["confirmed"] = form.submissions.filter(
        confirmation=FormSubmission.Confirmation.CONFIRMED
    ).count()
    return counts
