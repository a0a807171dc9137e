"""The duplicate pages: the queue, comparing, merging with chosen values, "not the same
person", merging any two customers, the merge list and undo; who may do what; CSRF."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kenal.accounts.models import Role, User
from kenal.conftest import PASSWORD
from kenal.customers import services
from kenal.customers.models import Customer
from kenal.customers.services import Origin
from kenal.identity.merging import merge_customers
from kenal.identity.models import CandidatePair, Merge
from kenal.identity.tests.helpers import DIFFERENT_CITIES, NAMES_CLOSE, SAME_BIRTH_DATE, propose

pytestmark = pytest.mark.django_db

EXPLANATION = [NAMES_CLOSE, SAME_BIRTH_DATE, DIFFERENT_CITIES]


def make(source: str, **values: Any) -> Customer:
    return services.create_customer(values, Origin(source=source))


@pytest.fixture
def pair(db: None) -> CandidatePair:
    budi = make(
        "pos",
        full_name="Budi Santoso",
        birth_date="1990-05-12",
        job_title="Pedagang",
        phones=["0812-3456-7890"],
        addresses=[{"street": "Jl. Merdeka 5", "city": "Bandung"}],
    )
    boedi = make(
        "tokopedia",
        full_name="Boedi Santoso",
        birth_date="1990-05-12",
        job_title="Pemilik Toko",
        emails=["boedi@contoh.id"],
        addresses=[{"street": "Jl. Sudirman 1", "city": "Cimahi"}],
    )
    return propose(budi, boedi, 0.93, EXPLANATION)


@pytest.fixture
def manager(login: Callable[..., Client]) -> Client:
    return login(Role.MANAGER)


def merge_data(client: Client, pair: CandidatePair, **choices: str) -> dict[str, Any]:
    """What the pair's comparison page posts as it is shown, with ``choices`` made."""
    return {**shown(client.get(f"/duplicates/{pair.pk}/")), **choices}


def shown(response: Any) -> dict[str, Any]:
    """The choices a comparison page shows made (the radio buttons checked)."""
    form = response.context["form"]
    return {field.html_name: field.value() for field in form if field.value() is not None}


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- who may do what ------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(pair: CandidatePair) -> None:
    client = Client()
    merge = Merge.objects.create(survivor=pair.left, merged=pair.right)
    for url in (
        "/duplicates/",
        f"/duplicates/{pair.pk}/",
        "/duplicates/merge/",
        "/duplicates/merges/",
        f"/duplicates/merges/{merge.pk}/undo/",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/"), url
    for url in (
        f"/duplicates/{pair.pk}/merge/",
        f"/duplicates/{pair.pk}/distinct/",
        f"/duplicates/merges/{merge.pk}/undo/",
    ):
        assert client.post(url).status_code == 302, url
    pair.refresh_from_db()
    assert pair.status == CandidatePair.Status.PENDING


def test_viewers_do_not_see_the_queue(login: Callable[..., Client], pair: CandidatePair) -> None:
    viewer = login(Role.VIEWER)
    assert viewer.get("/duplicates/").status_code == 403
    assert viewer.get(f"/duplicates/{pair.pk}/").status_code == 403
    assert 'href="/duplicates/"' not in viewer.get("/customers/").content.decode()


def test_agents_review_but_only_managers_decide(
    login: Callable[..., Client], pair: CandidatePair
) -> None:
    agent = login(Role.AGENT)
    queue = agent.get("/duplicates/")
    assert queue.status_code == 200
    assert "Merge two customers" not in queue.content.decode()
    compare = agent.get(f"/duplicates/{pair.pk}/").content.decode()
    assert "Only managers and administrators merge customers." in compare
    assert 'name="survivor"' not in compare
    merge = Merge.objects.create(survivor=pair.left, merged=pair.right)
    assert agent.post(f"/duplicates/{pair.pk}/merge/", merge_data(agent, pair)).status_code == 403
    assert agent.post(f"/duplicates/{pair.pk}/distinct/").status_code == 403
    assert agent.get("/duplicates/merge/").status_code == 403
    assert agent.get(f"/duplicates/merges/{merge.pk}/undo/").status_code == 403
    assert agent.post(f"/duplicates/merges/{merge.pk}/undo/").status_code == 403
    assert agent.get("/duplicates/merges/").status_code == 200
    pair.refresh_from_db()
    assert pair.status == CandidatePair.Status.PENDING
    assert Customer.objects.get(pk=pair.right_id).merged_into_id is None


def test_every_post_needs_the_csrf_token(
    make_user: Callable[..., User], pair: CandidatePair
) -> None:
    make_user("maya", Role.MANAGER)
    client = Client(enforce_csrf_checks=True)
    assert client.login(username="maya", password=PASSWORD)
    assert client.post(f"/duplicates/{pair.pk}/merge/", merge_data(client, pair)).status_code == 403
    assert client.post(f"/duplicates/{pair.pk}/distinct/").status_code == 403
    left, right = Customer.objects.get(pk=pair.left_id), Customer.objects.get(pk=pair.right_id)
    any_two = {"first": left.pk, "second": right.pk, "survivor": left.pk}
    assert client.post("/duplicates/merge/", any_two).status_code == 403
    pair.refresh_from_db()
    assert pair.status == CandidatePair.Status.PENDING
    assert not Merge.objects.exists()

    # The page's own form carries the token, and the same post then goes through.
    page = client.get(f"/duplicates/{pair.pk}/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    data = {**merge_data(client, pair), "csrfmiddlewaretoken": token.group(1)}
    assert client.post(f"/duplicates/{pair.pk}/merge/", data).status_code == 302
    assert Merge.objects.count() == 1


def test_navigation_links_the_queue_with_the_number_waiting(
    login: Callable[..., Client], pair: CandidatePair
) -> None:
    body = login(Role.AGENT).get("/customers/").content.decode()
    link = re.search(r'<a href="/duplicates/" class="nav-link">(.*?)</a>', body, re.S)
    assert link is not None
    assert re.search(r">1<span class=\"visually-hidden\"> waiting for review", link.group(1))


# --- the queue and the comparison -----------------------------------------------------------


def test_the_queue_lists_pending_pairs_likeliest_first(
    manager: Client, pair: CandidatePair
) -> None:
    third = make("pos", full_name="Siti Rahayu", emails=["siti@contoh.id"])
    fourth = make("web", full_name="Siti Rahaju", emails=["siti.r@contoh.id"])
    other = propose(third, fourth, 0.61, [])
    response = manager.get("/duplicates/")
    assert response.status_code == 200
    assert [row for row, _ in response.context["rows"]] == [pair, other]
    body = response.content.decode()
    assert "93%" in body
    assert "61%" in body
    assert "Budi Santoso" in body
    assert "Boedi Santoso" in body
    assert "+62 812-3456-7890" in body  # key facts: the phone, as people read it
    assert "Bandung" in body
    assert "Same birth date" in body  # the strongest reasons
    assert "Different cities" not in body  # a reason against is not a reason
    assert f'href="/duplicates/{pair.pk}/"' in body
    assert 'href="/duplicates/merge/"' in body


def test_the_comparison_shows_both_customers_and_the_explanation(
    manager: Client, pair: CandidatePair
) -> None:
    response = manager.get(f"/duplicates/{pair.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    for text in (
        "Budi Santoso",
        "Boedi Santoso",
        "Pedagang",
        "Pemilik Toko",
        "boedi<wbr>@contoh.id",
        "Jl. Sudirman 1",
        "Names agree after spelling normalisation",
        "+8.2",
        "−1.2",  # noqa: RUF001 - the minus sign shown
        "Match probability 93%",
        "Not the same person",
    ):
        assert text in body, text
    job = re.search(
        r"<tr class=\"alert-warning\">\s*<th scope=\"row\">Job title.*?</tr>", body, re.S
    )
    assert job is not None  # values that differ are highlighted, with a choice of value
    assert 'name="job_title" value="right"' in job.group(0)
    birth = re.search(r"<tr>\s*<th scope=\"row\">Birth date.*?</tr>", body, re.S)
    assert birth is not None  # the same on both: nothing to choose
    assert 'type="radio"' not in birth.group(0)
    survivor = re.search(r'name="survivor" value="(\d+)" checked', body)
    assert survivor is not None
    assert int(survivor.group(1)) == pair.left_id  # the older record by default


def test_an_unknown_pair_is_not_found(manager: Client, db: None) -> None:
    assert manager.get("/duplicates/999999/").status_code == 404
    assert manager.post("/duplicates/999999/merge/", {"survivor": "1"}).status_code == 404


# --- deciding ---------------------------------------------------------------------------------


def test_merge_keeps_the_values_chosen_per_field(manager: Client, pair: CandidatePair) -> None:
    data = merge_data(manager, pair, job_title="right", full_name="left")
    response = manager.post(f"/duplicates/{pair.pk}/merge/", data, follow=True)
    assert response.redirect_chain[-1][0] == reverse("customers:detail", args=[pair.left_id])
    survivor = Customer.objects.get(pk=pair.left_id)
    merged = Customer.objects.get(pk=pair.right_id)
    assert survivor.job_title == "Pemilik Toko"
    assert survivor.full_name == "Budi Santoso"
    assert merged.merged_into_id == survivor.pk
    assert set(survivor.emails.values_list("email", flat=True)) == {"boedi@contoh.id"}
    pair.refresh_from_db()
    assert pair.status == CandidatePair.Status.MERGED
    merge = Merge.objects.get()
    assert merge.score == pytest.approx(0.93)
    assert merge.explanation == EXPLANATION
    body = response.content.decode()
    message = f"Boedi Santoso (#{pair.right_id}) was merged into Budi Santoso (#{pair.left_id})."
    assert message in body
    assert f'<a href="/duplicates/merges/{merge.pk}/undo/">Undo this merge</a>' in body
    assert pair not in [row for row, _ in manager.get("/duplicates/").context["rows"]]


def test_the_other_customer_may_survive(manager: Client, pair: CandidatePair) -> None:
    data = {"survivor": str(pair.right_id), "full_name": "left", "job_title": "right"}
    response = manager.post(f"/duplicates/{pair.pk}/merge/", data)
    assert response["Location"] == reverse("customers:detail", args=[pair.right_id])
    survivor = Customer.objects.get(pk=pair.right_id)
    assert survivor.full_name == "Budi Santoso"
    assert Customer.objects.get(pk=pair.left_id).merged_into_id == survivor.pk


def test_a_survivor_outside_the_pair_or_an_unknown_choice_merges_nothing(
    manager: Client, pair: CandidatePair
) -> None:
    outsider = make("pos", full_name="Orang Lain", emails=["lain@contoh.id"])
    for data, field in (
        (merge_data(manager, pair, survivor=str(outsider.pk)), "Keep"),
        (merge_data(manager, pair, job_title="somebody-else"), "Job title"),
        ({}, "Full name"),
    ):
        response = manager.post(f"/duplicates/{pair.pk}/merge/", data, follow=True)
        assert response.status_code == 200
        assert response.redirect_chain[-1][0] == f"/duplicates/{pair.pk}/"
        [message] = messages_of(response)
        assert message.startswith("Nothing was merged: "), message
        assert f"{field}: " in message, message
    assert not Merge.objects.exists()


def test_a_refused_merge_is_a_message_not_an_error(manager: Client, pair: CandidatePair) -> None:
    # The right-hand customer was merged elsewhere while the pair waited.
    elsewhere = make("pos", full_name="Boedi S.", emails=["boedi.s@contoh.id"])
    merge_customers(elsewhere, Customer.objects.get(pk=pair.right_id), actor=None)
    response = manager.post(f"/duplicates/{pair.pk}/merge/", merge_data(manager, pair), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == f"/duplicates/{pair.pk}/"
    assert any(message.startswith("Nothing was merged: ") for message in messages_of(response))
    assert Merge.objects.count() == 1


def test_not_the_same_person_leaves_the_queue_for_good(
    manager: Client, pair: CandidatePair
) -> None:
    response = manager.post(f"/duplicates/{pair.pk}/distinct/", follow=True)
    assert response.redirect_chain[-1][0] == "/duplicates/"
    assert "will not be proposed again" in response.content.decode()
    pair.refresh_from_db()
    assert pair.status == CandidatePair.Status.DISTINCT
    assert pair.decided_by is not None
    assert pair.decided_by.username == "manager-user"
    assert response.context["rows"] == []
    assert not Merge.objects.exists()
    assert Customer.objects.filter(merged_into__isnull=False).count() == 0
    # The decision is shown when the pair is opened again, and offers no second decision.
    body = manager.get(f"/duplicates/{pair.pk}/").content.decode()
    assert "Already decided: Not the same person" in body
    assert "formaction" not in body


def test_a_decided_pair_keeps_its_decision(manager: Client, pair: CandidatePair) -> None:
    manager.post(f"/duplicates/{pair.pk}/merge/", merge_data(manager, pair), follow=True)
    # "Not the same person" from a page left open before the merge.
    response = manager.post(f"/duplicates/{pair.pk}/distinct/", follow=True)
    assert messages_of(response) == ["This pair was already decided: Merged."]
    pair.refresh_from_db()
    assert pair.status == CandidatePair.Status.MERGED


def test_a_pair_told_apart_is_not_merged_from_an_old_page(
    manager: Client, pair: CandidatePair
) -> None:
    data = merge_data(manager, pair)
    manager.post(f"/duplicates/{pair.pk}/distinct/", follow=True)
    response = manager.post(f"/duplicates/{pair.pk}/merge/", data, follow=True)
    assert messages_of(response) == ["This pair was already decided: Not the same person."]
    assert not Merge.objects.exists()


# --- merging any two customers -----------------------------------------------------------------


def test_any_two_customers_can_be_merged(manager: Client, pair: CandidatePair) -> None:
    assert manager.get("/duplicates/merge/").status_code == 200
    left = Customer.objects.get(pk=pair.left_id)
    # Found by number and by email address, in either order.
    query = {"first": "boedi@contoh.id", "second": f"#{left.pk}"}
    compare = manager.get("/duplicates/merge/", query)
    assert compare.status_code == 200
    assert compare.context["left"].pk == left.pk  # the older first, as in the queue
    body = compare.content.decode()
    assert "Pemilik Toko" in body
    assert 'name="reason"' in body
    data = {
        **shown(compare),
        "first": str(pair.right_id),
        "second": str(left.pk),
        "full_name": "left",
        "job_title": "right",
        "reason": "Same person, told us on the phone",
    }
    response = manager.post("/duplicates/merge/", data)
    assert response["Location"] == reverse("customers:detail", args=[left.pk])
    left.refresh_from_db()
    assert left.job_title == "Pemilik Toko"
    merge = Merge.objects.get()
    assert merge.reason == "Same person, told us on the phone"
    assert merge.merged_by is not None
    assert merge.merged_by.username == "manager-user"


def test_picking_customers_explains_what_is_wrong(manager: Client, pair: CandidatePair) -> None:
    cases = {
        ("999999", f"{pair.left_id}"): "There is no customer #999999.",
        ("nobody@contoh.id", f"{pair.left_id}"): "No customer matches “nobody@contoh.id”.",
        (f"{pair.left_id}", f"#{pair.left_id}"): "Choose two different customers.",
    }
    for (first, second), problem in cases.items():
        response = manager.get("/duplicates/merge/", {"first": first, "second": second})
        assert response.status_code == 200
        assert problem in response.content.decode()
    make("pos", full_name="Santoso Wijaya", emails=["wijaya@contoh.id"])
    response = manager.get("/duplicates/merge/", {"first": "santoso", "second": "boedi@contoh.id"})
    assert "More than one customer matches “santoso”" in response.content.decode()


def test_merging_a_merged_customer_is_refused(manager: Client, pair: CandidatePair) -> None:
    manager.post(f"/duplicates/{pair.pk}/merge/", merge_data(manager, pair))
    other = make("pos", full_name="Orang Lain", emails=["lain@contoh.id"])
    data = {"first": str(pair.right_id), "second": str(other.pk)}
    body = manager.get("/duplicates/merge/", data).content.decode()
    assert f"Customer #{pair.right_id} was merged into #{pair.left_id}." in body
    response = manager.post("/duplicates/merge/", {**data, "survivor": str(other.pk)})
    assert response.status_code == 200
    assert Merge.objects.count() == 1


# --- merges and undo ---------------------------------------------------------------------------


def test_undo_brings_both_customers_back(manager: Client, pair: CandidatePair) -> None:
    data = merge_data(manager, pair, full_name="left", job_title="right")
    manager.post(f"/duplicates/{pair.pk}/merge/", data)
    merge = Merge.objects.get()

    listing = manager.get("/duplicates/merges/").content.decode()
    assert f'id="merge-{merge.pk}"' in listing
    assert "Budi Santoso" in listing
    assert "93%" in listing
    assert f'href="/duplicates/merges/{merge.pk}/undo/"' in listing

    confirm = manager.get(f"/duplicates/merges/{merge.pk}/undo/").content.decode()
    question = (
        f"Undo the merge of Boedi Santoso (#{pair.right_id}) into Budi Santoso (#{pair.left_id})?"
    )
    assert question in confirm
    assert 'name="csrfmiddlewaretoken"' in confirm

    response = manager.post(f"/duplicates/merges/{merge.pk}/undo/", follow=True)
    assert response.redirect_chain[-1][0] == f"/duplicates/merges/#merge-{merge.pk}"
    assert "Boedi Santoso and Budi Santoso are two customers again." in messages_of(response)
    left = Customer.objects.get(pk=pair.left_id)
    right = Customer.objects.get(pk=pair.right_id)
    assert right.merged_into_id is None
    assert left.job_title == "Pedagang"
    assert right.job_title == "Pemilik Toko"
    assert list(right.emails.values_list("email", flat=True)) == ["boedi@contoh.id"]
    assert not left.emails.exists()
    merge.refresh_from_db()
    assert merge.undone_at is not None
    assert merge.undone_by is not None
    body = response.content.decode()
    assert "undone" in body
    assert f'href="/duplicates/merges/{merge.pk}/undo/"' not in body

    # Undoing twice is refused with a message.
    again = manager.post(f"/duplicates/merges/{merge.pk}/undo/", follow=True)
    assert again.status_code == 200
    assert any(m.startswith("The merge was not undone") for m in messages_of(again))
    assert (
        "was already undone" in manager.get(f"/duplicates/merges/{merge.pk}/undo/").content.decode()
    )


def test_undo_lists_values_changed_since_the_merge(manager: Client, pair: CandidatePair) -> None:
    manager.post(
        f"/duplicates/{pair.pk}/merge/",
        merge_data(manager, pair, job_title="right"),
    )
    survivor = Customer.objects.get(pk=pair.left_id)
    services.update_customer(survivor, {"job_title": "Juragan"}, Origin(source="web"))
    merge = Merge.objects.get()
    response = manager.post(f"/duplicates/merges/{merge.pk}/undo/", follow=True)
    merge.refresh_from_db()
    assert merge.undo_conflicts
    assert any("changed since the merge" in message for message in messages_of(response))
    assert "Changed since the merge, so left as they are:" in response.content.decode()
    survivor.refresh_from_db()
    assert survivor.job_title == "Juragan"
