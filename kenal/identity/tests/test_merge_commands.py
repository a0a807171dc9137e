"""`kenal merge` and `kenal unmerge`, as a user at a terminal sees them."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError

from kenal.customers import services
from kenal.customers.models import Customer
from kenal.customers.services import Origin
from kenal.identity.merging import merge_customers
from kenal.identity.models import Merge
from kenal.identity.tests.helpers import kenal
from kenal.ops.tests.test_commands import KENAL, kenal_env


def make(name: str, **values: object) -> Customer:
    return services.create_customer({"full_name": name, **values}, Origin(source="pos"))


@pytest.fixture
def ani(db: None) -> Customer:
    return make("Ani Wijaya", emails=["ani@contoh.id"], tags="vip")


@pytest.fixture
def anny(db: None) -> Customer:
    return make("Anny Wijaya", emails=["anny@contoh.id"], company="Toko Ani")


def test_merge_prints_what_it_did_and_keeps_the_reason(ani: Customer, anny: Customer) -> None:
    output = kenal("merge", str(ani.pk), str(anny.pk), "--reason", "Same shop, same phone")
    merge = Merge.objects.get()
    assert output == f"Merged #{anny.pk} into #{ani.pk} (merge {merge.pk}).\n"
    assert (merge.survivor, merge.merged, merge.reason) == (ani, anny, "Same shop, same phone")
    anny.refresh_from_db()
    assert anny.merged_into == ani


def test_list_shows_every_merge_or_those_of_one_customer(ani: Customer, anny: Customer) -> None:
    assert kenal("merge", "--list") == "No merges.\n"
    other = make("Budi")
    first = merge_customers(ani, anny, actor=None, score=0.9731, reason="checked")
    kenal("unmerge", str(first.pk))
    second = merge_customers(other, anny, actor=None)
    lines = kenal("merge", "--list").splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"merge {second.pk} ")
    assert f"#{other.pk} Budi <- #{anny.pk} Anny Wijaya  score -  active" in lines[0]
    assert lines[1].startswith(f"merge {first.pk} ")
    assert (
        f"by -            #{ani.pk} Ani Wijaya <- #{anny.pk} Anny Wijaya  score 0.973" in lines[1]
    )
    assert "  undone " in lines[1]
    assert lines[1].endswith("by -  (checked)")
    only = kenal("merge", "--list", str(other.pk)).splitlines()
    assert len(only) == 1
    assert only[0].startswith(f"merge {second.pk} ")


def test_unmerge_prints_what_came_back_and_what_was_kept(ani: Customer, anny: Customer) -> None:
    merge = merge_customers(ani, anny, actor=None)
    services.update_customer(ani, {"company": "PT Baru"}, Origin(source="web"))
    output = kenal("unmerge", str(merge.pk))
    assert output.splitlines() == [
        f"Undid merge {merge.pk}: #{anny.pk} and #{ani.pk} are two again.",
        f"  back on #{anny.pk}: 1 email, 1 source record",
        f"  kept: #{ani.pk} company = 'PT Baru', changed since the merge set 'Toko Ani'",
    ]
    ani.refresh_from_db()
    anny.refresh_from_db()
    assert (ani.company, anny.merged_into) == ("PT Baru", None)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{id}"], "expected SURVIVOR_ID MERGED_ID (two customer numbers), got 1 argument(s)"),
        (["{id}", "{id}", "{id}"], "got 3 argument(s)"),
        (["x", "{id}"], "SURVIVOR_ID: 'x' is not a customer number"),
        (["{id}", "{missing}"], "MERGED_ID: there is no customer #{missing}"),
        (["--list", "{id}", "{id}"], "--list takes at most one CUSTOMER_ID"),
        (["--list", "{missing}"], "CUSTOMER_ID: there is no customer #{missing}"),
    ],
)
def test_merge_arguments_are_checked(ani: Customer, args: list[str], message: str) -> None:
    numbers = {"id": ani.pk, "missing": ani.pk + 1}
    expected = re.escape(message.format(**numbers))
    with pytest.raises(CommandError, match=expected):
        kenal("merge", *(arg.format(**numbers) for arg in args))


def test_refused_merges_and_undos_are_errors(ani: Customer, anny: Customer) -> None:
    with pytest.raises(CommandError, match=f"Customer #{ani.pk} cannot be merged into itself"):
        kenal("merge", str(ani.pk), str(ani.pk))
    kenal("merge", str(ani.pk), str(anny.pk))
    with pytest.raises(CommandError, match=f"#{anny.pk} was already merged into #{ani.pk}"):
        kenal("merge", str(ani.pk), str(anny.pk))
    merge = Merge.objects.get()
    with pytest.raises(CommandError, match="MERGE_ID: 'x' is not a merge number"):
        kenal("unmerge", "x")
    with pytest.raises(CommandError, match=f"MERGE_ID: there is no merge {merge.pk + 1}"):
        kenal("unmerge", str(merge.pk + 1))
    kenal("unmerge", str(merge.pk))
    with pytest.raises(CommandError, match=f"Merge #{merge.pk} was already undone"):
        kenal("unmerge", str(merge.pk))


def test_the_kenal_script_exits_non_zero_with_the_message(tmp_path: Path) -> None:
    result = subprocess.run(
        [KENAL, "merge", "7"],
        env=kenal_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "expected SURVIVOR_ID MERGED_ID" in result.stderr
