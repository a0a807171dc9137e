"""The new-customer form warns before creating a customer the database probably has already:
the candidates, "add these details to them", "create a new customer anyway", the hint while
typing, the edit form, permissions, and the journey in a real browser."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from kenal.accounts.models import Role, User
from kenal.conftest import PASSWORD
from kenal.customers import custom_fields, services
from kenal.customers.models import Customer, SourceRecord
from kenal.customers.services import Origin
from kenal.identity import candidates
from kenal.identity.merging import merge_customers
from kenal.identity.models import CandidatePair, Relationship
from kenal.identity.weights import DEFAULT

pytestmark = pytest.mark.django_db

NEW = "/customers/new/"
PANEL_TITLE = "This may be a customer you already have"


@pytest.fixture
def agent(login: Callable[..., Client]) -> Client:
    return login(Role.AGENT)


@pytest.fixture
def budi(db: None) -> Customer:
    return services.create_customer(
        {
            "full_name": "Budi Santoso",
            "emails": ["budi@contoh.co.id"],
            "phones": ["+6281234567890"],
            "addresses": [{"street": "Jl. Merdeka 5", "city": "Bandung", "country": "ID"}],
            "company": "PT Maju Jaya",
            "tags": "vip",
            "lifecycle_stage": "loyal",
        },
        Origin(source="pos-export", external_id="C-17"),
    )


@pytest.fixture
def dewi(db: None) -> Customer:
    """A customer a "Dewi Lestary" in Semarang 50132 probably is (the review band)."""
    return services.create_customer(
        {
            "full_name": "Dewi Lestari",
            "birth_date": "1993-10-01",
            "addresses": [{"street": "Jl. Mawar 7", "city": "Semarang", "postcode": "50132"}],
        },
        Origin(source="crm"),
    )


def typed(**values: str) -> dict[str, str]:
    """What the new-customer form posts: its starting lifecycle stage and ``values``."""
    return {"lifecycle_stage": "prospect", "do_not_contact": "no", **values}


def live() -> list[str]:
    return sorted(Customer.objects.filter(merged_into=None).values_list("full_name", flat=True))


# --- the domain: candidates for typed values ------------------------------------------------------


def test_an_email_identifies_a_customer_for_sure(budi: Customer) -> None:
    found = candidates.possible_duplicates(
        {"full_name": "budi santoso", "emails": ["BUDI@Contoh.co.id"]}
    )

    assert [(c.customer, c.sure, c.match.rule) for c in found] == [(budi, True, "email")]
    assert found[0].percent >= 99
    assert "A shared email address" in found[0].agreed
    assert "Names agree (after spelling and title normalisation)" in found[0].agreed


def test_a_probable_match_is_a_candidate_with_its_reasons(dewi: Customer) -> None:
    found = candidates.possible_duplicates(
        {"full_name": "Dewi Lestary", "addresses": [{"city": "Semarang", "postcode": "50132"}]}
    )

    assert [(c.customer, c.sure, c.match.rule) for c in found] == [(dewi, False, "probabilistic")]
    assert DEFAULT.review_threshold * 100 <= found[0].percent < 100
    assert found[0].agreed == [  # the fields that agreed, strongest first
        "One name is a form of the other (initials, spelling, a typo)",
        "Same postcode",
        "Same city",
    ]


def test_strangers_invalid_values_and_the_customer_itself_have_no_candidates(
    budi: Customer,
) -> None:
    assert candidates.possible_duplicates({"full_name": "Siti Aminah"}) == []
    assert candidates.possible_duplicates({"emails": ["not an email"]}) == []
    assert candidates.possible_duplicates({"emails": ["budi@contoh.co.id"]}, exclude=budi.pk) == []


def test_a_merged_customer_is_never_a_candidate_its_survivor_is(budi: Customer) -> None:
    survivor = services.create_customer(
        {"full_name": "Budi Santoso", "emails": ["b.santoso@contoh.co.id"]}, Origin(source="crm")
    )
    merge_customers(survivor, budi, actor=None, reason="test")

    found = candidates.possible_duplicates(
        {"full_name": "Budi Santoso", "phones": ["0812-3456-7890"]}
    )

    assert [c.customer for c in found] == [survivor]


def test_with_stored_keeps_every_contact_and_makes_no_second_primary(budi: Customer) -> None:
    values = candidates.with_stored(
        budi,
        {
            "emails": [{"email": "budi.s@contoh.co.id", "is_primary": True}],
            "phones": [{"number": "0812-3456-7890", "is_verified": True}],
            "addresses": [{"street": "Jl. Merdeka 5", "city": "Bandung", "country": "Indonesia"}],
            "tags": "reseller, VIP",
        },
    )

    updated = services.update_customer(budi, values, Origin(source="web"))

    emails = list(updated.emails.order_by("id").values_list("email", "is_primary"))
    assert emails == [("budi@contoh.co.id", True), ("budi.s@contoh.co.id", False)]
    phones = list(updated.phones.values_list("number", "is_verified"))
    assert phones == [("+6281234567890", True)]  # typed twice: one row, every flag kept
    assert updated.addresses.count() == 1  # "Indonesia" is the stored "ID"
    assert sorted(updated.tags.values_list("name", flat=True)) == ["reseller", "vip"]


# --- the form: a sure match -----------------------------------------------------------------------


def test_an_email_in_another_case_shows_the_customer_and_creates_nothing(
    agent: Client, budi: Customer
) -> None:
    response = agent.post(
        NEW, typed(**{"full_name": "Budi Santoso", "emails-0-email": "BUDI@CONTOH.CO.ID"})
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "This may be a customer you already have" in body
    assert f'href="/customers/{budi.pk}/"' in body
    assert "+62 812-3456-7890" in body  # the known customer's contact details
    assert "A shared email address" in body
    assert re.search(r"\d+% match", body)
    assert f'name="add_to" value="{budi.pk}"' in body
    assert 'name="confirm_new" value="yes"' in body
    assert 'value="BUDI@CONTOH.CO.ID"' in body  # what was typed is kept
    assert live() == ["Budi Santoso"]
    assert not SourceRecord.objects.filter(source="web").exists()


def test_a_phone_in_another_format_shows_the_customer(agent: Client, budi: Customer) -> None:
    response = agent.post(
        NEW, typed(**{"full_name": "Budi S.", "phones-0-number": "0812 3456 7890"})
    )

    assert response.status_code == 200
    assert response.context["duplicates"][0].customer == budi
    assert response.context["sure_match"]
    assert "A shared phone number" in response.content.decode()
    assert live() == ["Budi Santoso"]


def test_a_unique_custom_field_identifies_the_customer(agent: Client, budi: Customer) -> None:
    custom_fields.define_field(key="nik", label="NIK", field_type="text", unique=True)
    services.update_customer(budi, {"custom": {"nik": "3273010101900001"}}, Origin(source="t"))

    response = agent.post(
        NEW, typed(**{"full_name": "Budi Santoso", "custom-nik": "3273010101900001"})
    )

    assert [c.customer for c in response.context["duplicates"]] == [budi]
    assert "The same identifying number (3273010101900001)" in response.content.decode()
    assert live() == ["Budi Santoso"]


# --- add these details to them --------------------------------------------------------------------


def test_adding_the_details_updates_the_known_customer_and_keeps_a_source_record(
    agent: Client, budi: Customer
) -> None:
    data = typed(
        **{
            "full_name": "Budi Santoso",
            "emails-0-email": "Budi@Contoh.co.id",
            "emails-1-email": "budi.kantor@contoh.co.id",
            "phones-0-number": "0857 1111 2222",
            "emails-primary": "0",
            "job_title": "Pemilik Toko",
            "tags": "reseller",
            "add_to": str(budi.pk),
        }
    )

    response = agent.post(NEW, data, follow=True)

    assert response.redirect_chain == [(f"/customers/{budi.pk}/", 302)]
    assert "The details you entered were added to Budi Santoso." in response.content.decode()
    assert live() == ["Budi Santoso"]
    budi.refresh_from_db()
    assert budi.job_title == "Pemilik Toko"
    assert budi.company == "PT Maju Jaya"  # not typed: kept
    assert budi.lifecycle_stage == "loyal"  # the form's starting stage is not a choice
    assert sorted(budi.emails.values_list("email", flat=True)) == [
        "budi.kantor@contoh.co.id",
        "budi@contoh.co.id",
    ]
    assert budi.primary_email == "budi@contoh.co.id"
    assert sorted(budi.phones.values_list("number", flat=True)) == [
        "+6281234567890",
        "+6285711112222",
    ]
    assert budi.addresses.count() == 1
    assert sorted(budi.tags.values_list("name", flat=True)) == ["reseller", "vip"]
    record = budi.source_records.get(source="web")
    assert record.status == SourceRecord.Status.APPLIED
    assert record.action == SourceRecord.Action.UPDATED
    assert record.received_by is not None
    assert record.received_by.username == "agent-user"
    assert record.data["job_title"] == "Pemilik Toko"


def test_bad_values_added_to_a_customer_are_refused_and_kept(agent: Client, budi: Customer) -> None:
    data = typed(
        **{
            "emails-0-email": "budi@contoh.co.id",
            "birth_date": "31/02/1990",
            "add_to": str(budi.pk),
        }
    )

    response = agent.post(NEW, data)

    assert response.status_code == 200
    assert "1 value needs your attention" in response.content.decode()
    budi.refresh_from_db()
    assert budi.birth_date is None
    record = budi.source_records.get(source="web")
    assert record.status == SourceRecord.Status.REJECTED
    assert record.data["birth_date"] == "31/02/1990"


def test_details_for_a_customer_merged_meanwhile_go_to_the_survivor(
    agent: Client, budi: Customer
) -> None:
    survivor = services.create_customer({"full_name": "Budi Santoso"}, Origin(source="crm"))
    merge_customers(survivor, budi, actor=None, reason="test")

    response = agent.post(
        NEW, typed(**{"phones-0-number": "0857 1111 2222", "add_to": str(budi.pk)})
    )

    assert response["Location"] == f"/customers/{survivor.pk}/"
    assert survivor.phones.filter(number="+6285711112222").exists()


# --- create a new customer anyway -----------------------------------------------------------------


def test_creating_anyway_after_a_probable_match_sends_the_pair_to_review(
    agent: Client, dewi: Customer
) -> None:
    data = typed(
        **{
            "full_name": "Dewi Lestary",
            "addresses-0-city": "Semarang",
            "addresses-0-postcode": "50132",
        }
    )
    warned = agent.post(NEW, data)
    assert [c.customer for c in warned.context["duplicates"]] == [dewi]
    assert not warned.context["sure_match"]
    assert live() == ["Dewi Lestari"]

    response = agent.post(NEW, {**data, "confirm_new": "yes"}, follow=True)

    created = Customer.objects.get(full_name="Dewi Lestary")
    assert response.redirect_chain == [(f"/customers/{created.pk}/", 302)]
    body = response.content.decode()
    assert "Customer Dewi Lestary created." in body
    assert "The possible duplicate waits in the duplicates queue for a decision." in body
    pair = CandidatePair.objects.get()
    assert (pair.left_id, pair.right_id) == (dewi.pk, created.pk)
    assert pair.status == CandidatePair.Status.PENDING
    assert DEFAULT.review_threshold <= pair.score
    assert {item["field"] for item in pair.explanation} >= {"name", "postcode"}


def test_creating_anyway_after_a_sure_match_also_asks_for_a_review(
    agent: Client, budi: Customer
) -> None:
    data = typed(**{"full_name": "Budi Santoso", "emails-0-email": "budi@contoh.co.id"})

    response = agent.post(NEW, {**data, "confirm_new": "yes"})

    assert response.status_code == 302
    assert live() == ["Budi Santoso", "Budi Santoso"]
    created = Customer.objects.exclude(pk=budi.pk).get()
    pair = CandidatePair.objects.get()
    assert (pair.left_id, pair.right_id, pair.status) == (budi.pk, created.pk, "pending")


def test_no_candidates_creates_directly_and_notes_a_household(
    agent: Client, budi: Customer
) -> None:
    response = agent.post(
        NEW, typed(**{"full_name": "Anita Wulandari", "phones-0-number": "0812-3456-7890"})
    )

    created = Customer.objects.get(full_name="Anita Wulandari")
    assert response["Location"] == f"/customers/{created.pk}/"
    assert not CandidatePair.objects.exists()
    relation = Relationship.objects.get()  # one phone, two people: as on every write path
    assert {relation.left_id, relation.right_id} == {budi.pk, created.pk}

    stranger = agent.post(NEW, typed(full_name="Siti Aminah"))
    assert stranger.status_code == 302
    assert live() == ["Anita Wulandari", "Budi Santoso", "Siti Aminah"]


# --- the edit form and the hint while typing ------------------------------------------------------


def test_editing_a_customer_does_not_warn_about_itself(agent: Client, budi: Customer) -> None:
    page = agent.get(f"/customers/{budi.pk}/edit/")
    assert "This may be a customer you already have" not in page.content.decode()

    hint = agent.get(
        f"/customers/{budi.pk}/edit/",
        {
            "check_duplicates": "1",
            "full_name": "Budi Santoso",
            "emails-0-email": "budi@contoh.co.id",
        },
    )
    assert hint.status_code == 200
    assert hint.content.decode().strip() == ""

    response = agent.post(
        f"/customers/{budi.pk}/edit/",
        {
            "full_name": "Budi Santoso",
            "lifecycle_stage": "loyal",
            "emails-0-email": "budi@contoh.co.id",
            "phones-0-number": "+6281234567890",
            "job_title": "Owner",
        },
    )
    assert response.status_code == 302


def test_the_hint_shows_the_panel_for_what_is_typed(agent: Client, budi: Customer) -> None:
    hint = agent.get(
        NEW,
        {"check_duplicates": "1", "full_name": "Budi", "phones-0-number": "0812-3456-7890"},
        headers={"HX-Request": "true"},
    )

    assert hint.status_code == 200
    body = hint.content.decode()
    assert "This may be a customer you already have" in body
    assert "<html" not in body
    assert live() == ["Budi Santoso"]

    other = services.create_customer(
        {"full_name": "Siti Aminah", "emails": ["siti@contoh.co.id"]}, Origin(source="t")
    )
    on_edit = agent.get(
        f"/customers/{budi.pk}/edit/",
        {
            "check_duplicates": "1",
            "full_name": "Siti Aminah",
            "emails-0-email": "siti@contoh.co.id",
        },
    )
    body = on_edit.content.decode()
    assert f'href="/customers/{other.pk}/"' in body
    assert 'name="add_to"' not in body  # only "open" from an edit form
    assert 'name="confirm_new"' not in body

    nothing = agent.get(NEW, {"check_duplicates": "1", "emails-0-email": "bud"})
    assert nothing.content.decode().strip() == ""


# --- permissions and CSRF -------------------------------------------------------------------------


def test_a_viewer_may_not_use_the_form_or_its_hint(
    login: Callable[..., Client], budi: Customer
) -> None:
    viewer = login(Role.VIEWER)
    data = typed(**{"emails-0-email": "budi@contoh.co.id"})
    assert viewer.post(NEW, data).status_code == 403
    assert viewer.post(NEW, {**data, "add_to": str(budi.pk)}).status_code == 403
    assert viewer.post(NEW, {**data, "confirm_new": "yes"}).status_code == 403
    assert viewer.get(NEW, {"check_duplicates": "1", **data}).status_code == 403
    assert live() == ["Budi Santoso"]
    assert not budi.source_records.filter(source="web").exists()


def test_adding_details_needs_the_right_to_change_customers(
    make_user: Callable[..., User], budi: Customer
) -> None:
    clerk = make_user("clerk", Role.VIEWER)
    clerk.user_permissions.add(Permission.objects.get(codename="add_customer"))
    client = Client()
    client.force_login(clerk)
    data = typed(**{"full_name": "Budi Santoso", "emails-0-email": "budi@contoh.co.id"})

    warned = client.post(NEW, data)
    assert warned.status_code == 200
    body = warned.content.decode()
    assert "This may be a customer you already have" in body
    assert 'name="add_to"' not in body
    assert 'name="confirm_new"' in body
    assert client.post(NEW, {**data, "add_to": str(budi.pk)}).status_code == 403
    assert not budi.source_records.filter(source="web").exists()


def test_the_form_needs_its_csrf_token(make_user: Callable[..., User], budi: Customer) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("agent", Role.AGENT))
    data = typed(**{"emails-0-email": "budi@contoh.co.id", "phones-0-number": "0857 1111 2222"})

    assert client.post(NEW, {**data, "add_to": str(budi.pk)}).status_code == 403
    assert client.post(NEW, {**data, "confirm_new": "yes"}).status_code == 403
    assert live() == ["Budi Santoso"]

    form = client.get(NEW).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token is not None
    ok = client.post(NEW, {**data, "csrfmiddlewaretoken": token[1], "add_to": str(budi.pk)})
    assert ok.status_code == 302


# --- in a real browser ----------------------------------------------------------------------------


def test_the_new_customer_form_warns_and_adds_the_details_in_a_browser(
    page: Any, live_server: Any, make_user: Callable[..., User], budi: Customer, dewi: Customer
) -> None:
    from playwright.sync_api import expect

    make_user("rina", Role.AGENT)
    base = str(live_server)
    page.goto(f"{base}/login/")
    page.fill("#id_username", "rina")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(f"{base}/customers/new/")
    page.get_by_label("Full name").fill("Budi Santoso")
    page.get_by_label("Job title").fill("Pemilik Toko")
    # The hint appears while typing, before anything is sent.
    page.get_by_label("Phone number 1").fill("0812 3456 7890")
    panel = page.get_by_test_id("possible-duplicates")
    expect(panel.get_by_role("heading", name=PANEL_TITLE)).to_be_visible()
    expect(panel.get_by_text("Sure match")).to_be_visible()
    expect(panel.get_by_text("budi@contoh.co.id")).to_be_visible()
    expect(panel.get_by_role("link", name=re.compile(r"^Open"))).to_have_attribute(
        "href", f"/customers/{budi.pk}/"
    )

    # Sent anyway: the form comes back with the panel and what was typed; nothing is created.
    page.get_by_role("button", name="Create customer").first.click()
    expect(panel.get_by_role("heading", name=PANEL_TITLE)).to_be_visible()
    expect(page.get_by_label("Job title")).to_have_value("Pemilik Toko")
    assert Customer.objects.count() == 2

    panel.get_by_role("button", name="Add these details to them").click()
    expect(page.get_by_role("heading", name="Budi Santoso", exact=True)).to_be_visible()
    expect(page.get_by_text("The details you entered were added to Budi Santoso.")).to_be_visible()
    budi.refresh_from_db()
    assert budi.job_title == "Pemilik Toko"
    assert Customer.objects.count() == 2

    # A probable match, created anyway after the warning: the pair waits for review.
    page.goto(f"{base}/customers/new/")
    page.get_by_label("Full name").fill("Dewi Lestary")
    page.get_by_label("City").first.fill("Semarang")
    page.get_by_label("Postcode").first.fill("50132")
    page.get_by_role("button", name="Create customer").first.click()
    expect(panel.get_by_text("Likely match")).to_be_visible()
    panel.get_by_role("button", name="Create a new customer anyway").click()
    expect(page.get_by_text("Customer Dewi Lestary created.")).to_be_visible()
    assert CandidatePair.objects.filter(left=dewi, status="pending").count() == 1
