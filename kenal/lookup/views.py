"""The global search: the results page at /search/?q= and the list the header's box shows as
one types (an htmx partial). Both only read, and need the right to see customers."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from kenal.lookup import services

SUGGESTIONS = 8
PAGE_RESULTS = services.MAX_LIMIT


def _query(request: HttpRequest) -> str:
    return request.GET.get("q", "").strip()[: services.MAX_QUERY_LENGTH]


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def search_page(request: HttpRequest) -> HttpResponse:
    query = _query(request)
    context = {
        "section": "search",
        "query": query,
        "results": services.search(query, PAGE_RESULTS) if query else [],
    }
    return render(request, "lookup/search.html", context)


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def suggestions(request: HttpRequest) -> HttpResponse:
    """The first results for the header's search box; empty (nothing to show) for no text."""
    query = _query(request)
    context = {"query": query, "results": services.search(query, SUGGESTIONS) if query else []}
    response = render(request, "lookup/_suggestions.html", context)
    patch_vary_headers(response, ("HX-Request",))
    return response
