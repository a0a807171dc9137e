"""The shell around every capability: the home page and the error pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect


def home(request: HttpRequest) -> HttpResponseRedirect:
    """The customer list is where work starts."""
    return redirect("customers:list")
