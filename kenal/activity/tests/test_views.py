"""The customer's 360° page: header, traits panel, timeline with filters and "show older",
logging an interaction and adding a note (with htmx and without), the contact warning,
permissions and CSRF."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from kenal.accounts.models import Role, User
from kenal.activity import services, traits
from kenal.activity.models import Interaction, Order
from kenal.customers import services as customer_services
from kenal.customers.models import Customer, Note
from kenal.customers.services import Origin
from kenal.customers.tests.test_views import form_data

HTMX = {"HX-Request": "true"}


@pytest.fixture
def budi(db: None) -> Customer:
    return customer_services.create_customer(
        {"full_name": "Budi Santoso", "phones": ["0812-3456-7890"], "emails": ["budi@contoh.id"]},
        Origin(source="pos"),
    )


@pytest.fixture
def agent(login: Callable[..., Client]) -> Client:
    return login(Role.AGENT, "ani")


@pytest.fixture
def viewer(login: Callable[..., Client]) -> Client:
    return login(Role.VIEWER, "vina")


def page(client: Client, customer: Customer, **params: Any) -> str:
    response = client.get(f"/customers/{customer.pk}/", params)
    assert response.status_code == 200
    return str(response.content.decode())


def section(body: str, element_id: str) -> str:
    """The HTML of the element with ``element_id`` up to its closing tag (sections only)."""
    start = body.index(f'id="{element_id}"')
    return body[start : body.index("</section>", start)]


def log(client: Client, customer: Customer, htmx: bool = True, **values: str) -> Any:
    data = {"kind": "call", "direction": "outbound", "summary": "Offered the new blend", **values}
    return client.post(
        f"/customers/{customer.pk}/interactions/new/", data, headers=HTMX if htmx else {}
    )


def order(customer: Customer, total: str, days_ago: int, number: str) -> Order:
    made = Order.objects.create(
        customer=customer,
        source="shopee",
        order_number=number,
        ordered_at=timezone.now() - datetime.timedelta(days=days_ago),
        total=Decimal(total),
    )
    traits.refresh([customer.pk])
    return made


# --- the page -------------------------------------------------------------------------------


def test_the_page_shows_owner_traits_and_a_timeline(
    agent: Client, budi: Customer, make_user: Callable[..., User]
) -> None:
    owner = make_user("siti", Role.MANAGER)
    budi.owner = owner
    budi.save(update_fields=["owner"])
    order(budi, "150000", 3, "SHP-1")
    order(budi, "50000", 10, "SHP-2")
    body = page(agent, budi)
    assert "Owner: <strong>siti</strong>" in body
    assert "Not contacted yet" in body
    panel = section(body, "traits")
    assert re.search(r"Orders</dt><dd>2</dd>", panel)
    assert "200,000.00" in panel  # total spend
    assert "100,000.00" in panel  # average
    assert "3 days ago" in panel
    timeline = section(body, "timeline")
    assert timeline.index("Order SHP-1") < timeline.index("Order SHP-2")
    assert 'data-kind="order"' in timeline


def test_a_customer_without_activity_shows_empty_traits(agent: Client, budi: Customer) -> None:
    body = page(agent, budi)
    panel = section(body, "traits")
    assert re.search(r"Orders</dt><dd>0</dd>", panel)
    assert "Nothing on the timeline yet." in body


def test_do_not_contact_shows_a_badge_and_a_warning_by_the_contacts(
    agent: Client, budi: Customer
) -> None:
    budi.do_not_contact = True
    budi.save(update_fields=["do_not_contact"])
    body = page(agent, budi)
    assert 'id="do-not-contact"' in body
    contact = section(body, "contact-warning")  # inside the contact card
    assert "This customer is marked do not contact." in contact
    assert body.index("This customer is marked do not contact.") < body.index("+62 812-3456-7890")


# --- timeline filters and paging ------------------------------------------------------------


def test_filter_chips_reload_only_the_timeline(agent: Client, budi: Customer) -> None:
    order(budi, "10000", 1, "SHP-9")
    customer_services.add_note(budi, "Likes robusta", None)
    response = agent.get(f"/customers/{budi.pk}/timeline/", {"kind": "note"}, headers=HTMX)
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    body = response.content.decode()
    assert "<html" not in body
    assert body.lstrip().startswith('<section class="card timeline-card" id="timeline"')
    assert "Likes robusta" in body
    assert "SHP-9" not in body
    assert 'data-kind="note" aria-current="true"' in body
    # The same filter on the page itself, as the chip's link has it without JavaScript.
    full = page(agent, budi, kind="note")
    assert "Likes robusta" in section(full, "timeline")
    assert "SHP-9" not in section(full, "timeline")


def test_without_javascript_the_timeline_address_leads_to_the_page(
    agent: Client, budi: Customer
) -> None:
    response = agent.get(f"/customers/{budi.pk}/timeline/", {"kind": ["order", "note"]})
    assert response.status_code == 302
    assert response["Location"] == f"/customers/{budi.pk}/?kind=order&kind=note#timeline"


def test_show_older_appends_the_next_entries(agent: Client, budi: Customer) -> None:
    for n in range(25):
        note = customer_services.add_note(budi, f"note number {n}", None)
        Note.objects.filter(pk=note.pk).update(
            created_at=timezone.now() - datetime.timedelta(hours=n)
        )
    body = page(agent, budi)
    assert "note number 19" in body
    assert "note number 20" not in body
    older = re.search(r'hx-get="(/customers/\d+/timeline/\?before=[^"]+)"', body)
    assert older is not None
    response = agent.get(older[1].replace("&amp;", "&"), headers=HTMX)
    assert response.status_code == 200
    more = response.content.decode()
    assert more.lstrip().startswith("<li")
    assert [f"note number {n}" in more for n in (19, 20, 24)] == [False, True, True]
    assert "Show older" not in more


# --- logging an interaction -----------------------------------------------------------------


def test_log_a_call_with_htmx_updates_timeline_traits_and_last_contact(
    agent: Client, budi: Customer
) -> None:
    response = log(agent, budi, channel="WhatsApp", outcome="reached")
    assert response.status_code == 200
    interaction = Interaction.objects.get(customer=budi)
    assert interaction.staff is not None
    assert (interaction.staff.username, interaction.kind, interaction.outcome) == (
        "ani",
        "call",
        "reached",
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<form id="log-interaction"')
    assert "Interaction logged." in body
    for element in ("timeline", "traits", "last-contact"):
        assert re.search(rf'id="{element}"[^>]*hx-swap-oob="true"', body), element
    assert "Offered the new blend" in body
    assert "Last contacted by <strong>ani</strong>" in body
    assert "via <strong>WhatsApp</strong>" in body


def test_the_timeline_keeps_its_filter_after_a_note(agent: Client, budi: Customer) -> None:
    order(budi, "10000", 1, "SHP-7")
    headers = {**HTMX, "HX-Current-URL": f"http://testserver/customers/{budi.pk}/?kind=note"}
    response = agent.post(
        f"/customers/{budi.pk}/timeline/notes/", {"body": "Call back on Monday"}, headers=headers
    )
    body = response.content.decode()
    assert "Call back on Monday" in body
    assert "SHP-7" not in body
    assert 'data-kind="note" aria-current="true"' in body


def test_log_without_javascript_redirects_back_to_the_page(agent: Client, budi: Customer) -> None:
    response = log(agent, budi, htmx=False, occurred_at="2024-03-31T14:30")
    assert response.status_code == 302
    assert response["Location"] == f"/customers/{budi.pk}/#timeline"
    interaction = Interaction.objects.get(customer=budi)
    assert timezone.localtime(interaction.occurred_at).strftime("%Y-%m-%d %H:%M") == (
        "2024-03-31 14:30"
    )
    body = page(agent, budi)
    assert "Interaction logged." in body
    assert "Offered the new blend" in section(body, "timeline")


def test_bad_values_are_named_and_nothing_is_logged(agent: Client, budi: Customer) -> None:
    response = log(agent, budi, kind="telegram", occurred_at="soon")
    assert response.status_code == 200
    body = response.content.decode()
    assert "“soon” is not valid" in body
    assert not Interaction.objects.exists()
    response = log(agent, budi, kind="telegram")
    body = response.content.decode()
    assert "“telegram” is not valid: expected one of: call, chat, email, visit, meeting" in body
    assert 'value="Offered the new blend"' in body or "Offered the new blend</textarea>" in body
    assert not Interaction.objects.exists()
    redirected = log(agent, budi, htmx=False, kind="telegram")
    assert redirected["Location"] == f"/customers/{budi.pk}/#log-interaction"
    assert "telegram" in page(agent, budi)


def test_a_colleagues_recent_contact_needs_confirming_before_an_outbound_contact(
    agent: Client, budi: Customer, make_user: Callable[..., User]
) -> None:
    dewi = make_user("dewi", Role.AGENT)
    services.log_interaction(budi, kind="call", direction="outbound", staff=dewi, channel="phone")
    body = page(agent, budi)
    assert "dewi contacted this customer on" in section(body, "contact-warning")
    assert 'name="contact_anyway"' in body
    refused = log(agent, budi).content.decode()
    assert "tick this box to log the contact anyway" in refused
    assert Interaction.objects.count() == 1
    inbound = log(agent, budi, direction="inbound")  # the customer called: nothing to confirm
    assert "Interaction logged." in inbound.content.decode()
    confirmed = log(agent, budi, contact_anyway="on")
    assert "Interaction logged." in confirmed.content.decode()
    assert Interaction.objects.filter(staff__username="ani").count() == 2


def test_do_not_contact_needs_confirming_too(agent: Client, budi: Customer) -> None:
    budi.do_not_contact = True
    budi.save(update_fields=["do_not_contact"])
    response = log(agent, budi, htmx=False)
    assert response.status_code == 302
    assert not Interaction.objects.exists()
    assert "contact anyway" in page(agent, budi)
    log(agent, budi, contact_anyway="on")
    assert Interaction.objects.count() == 1


# --- notes ----------------------------------------------------------------------------------


def test_add_a_note_with_htmx(agent: Client, budi: Customer) -> None:
    response = agent.post(
        f"/customers/{budi.pk}/timeline/notes/", {"body": " Wants a catalogue "}, headers=HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<form id="note-form"')
    assert "Note added." in body
    assert re.search(r'id="timeline"[^>]*hx-swap-oob="true"', body)
    assert "Wants a catalogue" in body
    note = Note.objects.get(customer=budi)
    assert (note.body, str(note.author)) == ("Wants a catalogue", "ani")


def test_an_empty_note_is_refused(agent: Client, budi: Customer) -> None:
    response = agent.post(f"/customers/{budi.pk}/timeline/notes/", {"body": "  "}, headers=HTMX)
    assert "Expected some text." in response.content.decode()
    plain = agent.post(f"/customers/{budi.pk}/timeline/notes/", {"body": ""})
    assert plain["Location"] == f"/customers/{budi.pk}/#notes"
    assert not Note.objects.exists()


# --- the edit form --------------------------------------------------------------------------


def test_the_edit_form_offers_do_not_contact(agent: Client, budi: Customer) -> None:
    body = agent.get(f"/customers/{budi.pk}/edit/").content.decode()
    assert '<select name="do_not_contact" id="id_do_not_contact"' in body
    assert '<option value="no" selected>' in body


def test_the_edit_form_sets_do_not_contact(agent: Client, budi: Customer) -> None:
    response = agent.post(f"/customers/{budi.pk}/edit/", form_data(budi, do_not_contact="yes"))
    assert response.status_code == 302
    budi.refresh_from_db()
    assert budi.do_not_contact is True
    assert (
        '<option value="yes" selected>' in agent.get(f"/customers/{budi.pk}/edit/").content.decode()
    )


# --- permissions and CSRF -------------------------------------------------------------------


def test_a_viewer_sees_the_page_and_timeline_but_cannot_log_or_note(
    viewer: Client, budi: Customer
) -> None:
    body = page(viewer, budi)
    assert 'id="timeline"' in body
    assert 'id="log-interaction"' not in body
    assert 'id="note-form"' not in body
    assert viewer.get(f"/customers/{budi.pk}/timeline/", headers=HTMX).status_code == 200
    assert log(viewer, budi).status_code == 403
    assert log(viewer, budi, htmx=False).status_code == 403
    note = viewer.post(f"/customers/{budi.pk}/timeline/notes/", {"body": "hi"}, headers=HTMX)
    assert note.status_code == 403
    assert not Interaction.objects.exists()
    assert not Note.objects.exists()


def test_no_role_no_timeline(db: None, budi: Customer) -> None:
    nobody = User.objects.create_user("nobody", password="x")
    client = Client()
    client.force_login(nobody)
    assert client.get(f"/customers/{budi.pk}/timeline/", headers=HTMX).status_code == 403


def test_writes_are_posts_and_unknown_or_merged_customers_are_404(
    agent: Client, budi: Customer
) -> None:
    assert agent.get(f"/customers/{budi.pk}/interactions/new/").status_code == 405
    assert agent.get(f"/customers/{budi.pk}/timeline/notes/").status_code == 405
    assert agent.post(f"/customers/{budi.pk}/timeline/", headers=HTMX).status_code == 405
    assert log(agent, Customer(pk=999999)).status_code == 404
    siti = customer_services.create_customer({"full_name": "Siti"}, Origin(source="pos"))
    Customer.objects.filter(pk=siti.pk).update(merged_into=budi)
    assert log(agent, siti).status_code == 404


def test_posts_without_a_csrf_token_are_refused(
    make_user: Callable[..., User], budi: Customer
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("csrf-agent", Role.AGENT))
    assert log(client, budi).status_code == 403
    note = client.post(f"/customers/{budi.pk}/timeline/notes/", {"body": "x"}, headers=HTMX)
    assert note.status_code == 403
    assert not Interaction.objects.exists()
    body = page(client, budi)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    assert token is not None
    ok = log(client, budi, csrfmiddlewaretoken=token[1])
    assert ok.status_code == 200
    assert Interaction.objects.count() == 1
