"""The golden record pages: the rules (managers and administrators) and the lineage card."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kenal.accounts.models import Role, User
from kenal.customers import services as customer_services
from kenal.customers.models import Customer, SourceRecord
from kenal.customers.services import Origin
from kenal.identity import survivorship
from kenal.identity.models import SurvivorshipRule

pytestmark = pytest.mark.django_db

RULES = "/golden/rules/"
HTMX = {"HX-Request": "true"}


def lineage_url(customer: Customer) -> str:
    return f"/golden/customers/{customer.pk}/lineage/"


def recompute_url(customer: Customer) -> str:
    return f"/golden/customers/{customer.pk}/recompute/"


def rules_post(**overrides: tuple[str, str]) -> dict[str, Any]:
    """The rules form as the page posts it: every field, with ``overrides`` changed."""
    data: dict[str, Any] = {"field": list(survivorship.SCALAR_FIELDS)}
    for name in survivorship.SCALAR_FIELDS:
        rule, priority = overrides.get(name, ("most_recent", ""))
        data[f"rule-{name}"] = rule
        data[f"priority-{name}"] = priority
    return data


@pytest.fixture
def dewi() -> Customer:
    """Dewi: created from a sign-up form, then her company changed in the UI."""
    customer = customer_services.create_customer(
        {"full_name": "Dewi Lestari", "company": "PT Lama", "phones": ["0857 1234 5678"]},
        Origin(source="form:pameran", batch_id="submission-1"),
    )
    customer_services.update_customer(customer, {"company": "PT Baru"}, Origin(source="web"))
    customer.refresh_from_db()
    return customer


# --- permissions and CSRF -------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(dewi: Customer) -> None:
    for url in (RULES, lineage_url(dewi)):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next={url}"


@pytest.mark.parametrize("role", [Role.AGENT, Role.VIEWER])
def test_plain_staff_can_neither_see_nor_edit_the_rules(
    login: Callable[..., Client], role: str
) -> None:
    client = login(role)
    assert client.get(RULES).status_code == 403
    response = client.post(RULES, rules_post(company=("most_frequent", "")))
    assert response.status_code == 403
    assert not SurvivorshipRule.objects.exists()
    assert "Survivorship rules" not in client.get("/customers/").content.decode()


def test_plain_staff_see_lineage_but_cannot_recompute(
    login: Callable[..., Client], dewi: Customer
) -> None:
    client = login(Role.AGENT)
    body = client.get(lineage_url(dewi)).content.decode()
    assert "Recompute from sources" not in body
    assert client.post(recompute_url(dewi)).status_code == 403


def test_posts_need_the_csrf_token(make_user: Callable[..., User], dewi: Customer) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("boss", Role.MANAGER))
    assert client.post(RULES, rules_post(company=("most_frequent", ""))).status_code == 403
    assert client.post(recompute_url(dewi)).status_code == 403
    assert not SurvivorshipRule.objects.exists()
    # The page's own form carries the token, and with it the post goes through.
    page = client.get(RULES)
    token = page.context["csrf_token"]
    data = {**rules_post(company=("most_frequent", "")), "csrfmiddlewaretoken": token}
    assert client.post(RULES, data).status_code == 302
    assert SurvivorshipRule.objects.get().rule == "most_frequent"


# --- the rules page ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_managers_and_admins_edit_the_rules(
    login: Callable[..., Client], role: str, dewi: Customer
) -> None:
    client = login(role)
    page = client.get(RULES)
    assert page.status_code == 200
    body = page.content.decode()
    for name in survivorship.SCALAR_FIELDS:
        assert f'name="rule-{name}"' in body
    # The sources records came from are offered as suggestions.
    assert '<option value="form:pameran">' in body
    assert '<option value="web">' in body
    assert 'href="/golden/rules/"' in body  # the settings entry in the navigation

    data = rules_post(company=("trusted_source", "web, form:pameran"))
    response = client.post(RULES, data, follow=True)
    assert response.redirect_chain == [(RULES, 302)]
    assert "1 rule saved." in response.content.decode()
    saved = SurvivorshipRule.objects.get()
    assert (saved.field, saved.rule, saved.source_priority) == (
        "company",
        "trusted_source",
        ["web", "form:pameran"],
    )
    assert 'value="web, form:pameran"' in response.content.decode()


def test_a_bad_rule_is_shown_beside_its_field_and_nothing_is_saved(
    login: Callable[..., Client],
) -> None:
    client = login(Role.MANAGER)
    data = rules_post(company=("newest", "web"), gender=("trusted_source", " "))
    response = client.post(RULES, data)
    assert response.status_code == 400
    body = response.content.decode()
    assert not SurvivorshipRule.objects.exists()
    company = body[body.index('id="rule-company"') :]
    company = company[: company.index("</tr>")]
    assert "company.rule: “newest” is not valid; expected one of: most_recent" in company
    assert 'value="web"' in company  # what was typed stays
    gender = body[body.index('id="rule-gender"') :]
    gender = gender[: gender.index("</tr>")]
    assert "gender.source_priority" in gender
    assert "at least one source" in gender


def test_an_unknown_field_is_reported_by_name(login: Callable[..., Client]) -> None:
    client = login(Role.MANAGER)
    data = {"field": ["nickname"], "rule-nickname": "most_recent", "priority-nickname": ""}
    response = client.post(RULES, data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "field: “nickname” is not valid; expected a single-valued customer field" in body


# --- the lineage card -----------------------------------------------------------------------


def test_the_customer_page_loads_the_lineage_card(
    login: Callable[..., Client], dewi: Customer
) -> None:
    body = login(Role.AGENT).get(f"/customers/{dewi.pk}/").content.decode()
    url = lineage_url(dewi)
    assert f'hx-get="{url}"' in body
    assert f'<a href="{url}">' in body  # without JavaScript, a link to the same card


def test_the_lineage_partial_shows_values_sources_and_records(
    login: Callable[..., Client], dewi: Customer
) -> None:
    response = login(Role.AGENT).get(lineage_url(dewi), headers=HTMX)
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    body = response.content.decode()
    assert "<html" not in body
    form, web = SourceRecord.objects.filter(customer=dewi).order_by("id")
    company = body[body.index('id="lineage-company"') :]
    company = company[: company.index("</tr>")]
    chosen, others = company.split("PT Lama", 1)
    assert "PT Baru" in chosen
    assert f"record #{web.pk}" in chosen
    assert "form:pameran" in others
    assert f"record #{form.pk}" in others
    phones = body[body.index('id="lineage-phones"') :]
    assert "+62 857-1234-5678" in phones[: phones.index("</tr>")]


def test_the_lineage_page_works_without_javascript(
    login: Callable[..., Client], dewi: Customer
) -> None:
    body = login(Role.AGENT).get(lineage_url(dewi)).content.decode()
    assert "<html" in body
    assert "Golden record and lineage" in body
    assert f'href="/customers/{dewi.pk}/"' in body


def test_recompute_applies_the_rules_and_names_what_changed(
    login: Callable[..., Client], dewi: Customer
) -> None:
    survivorship.set_rule("company", SurvivorshipRule.Rule.TRUSTED_SOURCE, ["form:pameran"])
    client = login(Role.MANAGER)
    before = client.get(lineage_url(dewi), headers=HTMX).content.decode()
    assert "The rules choose “PT Lama”" in before
    response = client.post(recompute_url(dewi), headers=HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Recomputed from the source records; changed: company." in body
    assert "<html" not in body
    dewi.refresh_from_db()
    assert dewi.company == "PT Lama"
    # Without JavaScript: back to the lineage page, with the outcome as a message.
    response = client.post(recompute_url(dewi), follow=True)
    assert response.redirect_chain == [(lineage_url(dewi), 302)]
    assert "Recomputed from the source records: nothing changed." in response.content.decode()


def test_lineage_of_an_unknown_customer_is_not_found(login: Callable[..., Client]) -> None:
    client = login(Role.MANAGER)
    assert client.get("/golden/customers/999999/lineage/").status_code == 404
    assert client.post("/golden/customers/999999/recompute/").status_code == 404
