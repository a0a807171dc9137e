"""Instant lookup: find a customer from whatever a staff member or a phone system has at hand.

:func:`search` reads one piece of text as every kind of identifier it could be — a phone number
in any format, an email address in any case, an order number, the value of a unique custom
field — and, unless it is an email or a phone number, as a name, tolerating case, accents,
word order and one typo per word. Every condition is an equality or range on an index, so a
lookup stays fast on millions of customers (``bench/lookup.py``):

- typos: each word typed (3 letters or more) is expanded to the strings one edit away (a
  letter dropped, added, changed or two swapped — a few hundred), and one indexed query keeps
  those that are words of some customer's name (:class:`customers.models.NameToken`);
- full names: every order of the matched spellings, looked up on the indexed ``sort_name``,
  the fewest typos first;
- longer names: customers having every word typed, driven by the rarest word;
- only when those find nobody or some word is no name's word: near spellings and words being
  typed ("budi sant"), a bounded search.

Results are ranked — identifiers, then full names, then names holding every word, then names
starting so, then names with typos — and each says why it matched. Merged customers are never
returned: their survivor is, saying which merged record matched.

:func:`caller_lookup` is the phone system's question: a number in any format → the customer,
their last order, open tickets and overdue services.
"""

from __future__ import annotations

import datetime
import itertools
import math
import string
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from rapidfuzz.distance import DamerauLevenshtein

from kenal.activity.models import Order, Subscription, Ticket
from kenal.customers import custom_fields, normalise
from kenal.customers.models import (
    Customer,
    CustomerEmail,
    CustomerPhone,
    CustomField,
    NameToken,
)
from kenal.customers.normalise import InvalidValue
from kenal.customers.services import emails_matching, name_prefix
from kenal.identity.services import survivors

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "CallerCard",
    "CallerLookup",
    "Rank",
    "Reason",
    "Result",
    "caller_lookup",
    "search",
]

DEFAULT_LIMIT = 10
MAX_LIMIT = 50
MAX_QUERY_LENGTH = 200
MAX_WORDS = 5
# Shorter words are matched exactly or as a prefix only: one edit away from "ed" is too much.
FUZZY_MIN_LENGTH = 3
# A number is tried as a phone number once it has this many digits.
PHONE_MIN_DIGITS = 6
# Every order of the words is tried as a full name up to this many words (3! = 6 orders).
PERMUTED_WORDS = 3
MAX_FULL_NAMES = 96
# Namesakes read per group of full names, from the index alone, to choose among them.
FULL_NAME_ROWS = 500
# Each word keeps its best few typo matches for the full-name lookup.
FUZZY_PER_WORD = 4
# Name words are counted up to this many customers: enough to choose the rarest word.
COUNT_CAP = 5_000
# The widest search (typos and word starts beyond full names) tries at most this many rows of
# its most selective word: it ranks last, and must not cost more than the rest together.
NEAR_SCAN = 5_000
CALLER_LIST_LIMIT = 20
_ALPHABET = string.ascii_lowercase


class Rank:
    """Result ranks, best first: the lower, the better."""

    IDENTIFIER = 0  # phone, email, order number, unique custom field
    FULL_NAME = 1  # every word of the name typed exactly, in any order
    ALL_WORDS = 2  # every word typed is a word of the name, which has more
    PREFIX = 3  # every word typed starts a word of the name (typing in progress)
    FUZZY = 4  # as above with a typo in some word


@dataclass(frozen=True)
class Reason:
    """Why a customer matched: the kind of match, the stored value and a sentence for people.

    ``merged_customer`` is set when the value belongs to a record merged into this customer.
    """

    kind: str  # phone | email | order | custom_field | name
    field: str  # phone, email, order_number, the custom field's key, full_name
    value: str
    detail: str
    merged_customer: int | None = None


@dataclass(frozen=True)
class _Hit:
    customer_id: int
    rank: int
    score: float  # 0..1 within the rank
    reason: Reason


@dataclass(frozen=True)
class Result:
    customer: Customer
    rank: int
    score: float
    reasons: list[Reason]

    @property
    def reason(self) -> Reason:
        return self.reasons[0]


# --- the search ------------------------------------------------------------------------------


def search(text: str, limit: int = DEFAULT_LIMIT) -> list[Result]:
    """The customers ``text`` identifies or names, best first, at most ``limit``."""
    text = text.strip()[:MAX_QUERY_LENGTH]
    limit = max(1, min(limit, MAX_LIMIT))
    if not text:
        return []
    hits = _identifier_hits(text)
    # An email or a phone number is not a name; anything else may be both (a unique nickname).
    if not _identifier_shaped(text):
        hits += _name_hits(text, limit)
    return _results(hits, limit)


def _identifier_shaped(text: str) -> bool:
    return "@" in text or sum(char.isdigit() for char in text) >= PHONE_MIN_DIGITS


def _identifier_hits(text: str) -> list[_Hit]:
    """Hits of ``text`` read as a phone number, an email, an order number or a unique value."""
    return [*_phone_hits(text), *_email_hits(text), *_order_hits(text), *_custom_hits(text)]


def _phone_hits(text: str) -> list[_Hit]:
    if "@" in text or sum(char.isdigit() for char in text) < PHONE_MIN_DIGITS:
        return []
    try:
        number = normalise.phone(text)
    except InvalidValue:
        return []
    owners = CustomerPhone.objects.filter(number=number).values_list("customer_id", flat=True)
    reason = Reason("phone", "phone", number, _("Phone number %(number)s") % {"number": number})
    return [_Hit(owner, Rank.IDENTIFIER, 1.0, reason) for owner in owners[:MAX_LIMIT]]


def _email_hits(text: str) -> list[_Hit]:
    if "@" not in text or any(char.isspace() for char in text):
        return []
    try:
        address = normalise.email(text)
    except InvalidValue:
        address = text
    rows = emails_matching([address]).values_list("customer_id", "email")[:MAX_LIMIT]
    return [_Hit(owner, Rank.IDENTIFIER, 1.0, _email_reason(stored)) for owner, stored in rows]


def _email_reason(address: str) -> Reason:
    return Reason("email", "email", address, _("Email %(email)s") % {"email": address})


def _order_hits(text: str) -> list[_Hit]:
    """Orders numbered ``text`` (as typed or in capitals), from any source."""
    if not any(char.isdigit() for char in text) or len(text) > 100:
        return []
    numbers = {text, text.upper()}
    rows = Order.objects.filter(order_number__in=numbers).values_list(
        "customer_id", "order_number", "source"
    )
    return [
        _Hit(owner, Rank.IDENTIFIER, 1.0, _order_reason(number, source))
        for owner, number, source in rows[:MAX_LIMIT]
    ]


def _order_reason(number: str, source: str) -> Reason:
    detail = _("Order %(number)s from %(source)s") % {"number": number, "source": source}
    return Reason("order", "order_number", number, detail)


def _custom_hits(text: str) -> list[_Hit]:
    """Customers holding ``text`` in a unique custom field (member number, NIK, …)."""
    keys: dict[str, tuple[CustomField, str]] = {}
    for definition in CustomField.objects.filter(unique=True, archived_at=None):
        try:
            values = custom_fields.clean_value(definition, text, path=definition.key)
        except InvalidValue:
            continue
        for value in values:
            keys[custom_fields.unique_key(definition, value)] = (definition, value.display())
    hits = []
    for key, owner in custom_fields.unique_owners(keys).items():
        definition, shown = keys[key]
        detail = _("%(field)s %(value)s") % {"field": definition.label, "value": shown}
        reason = Reason("custom_field", definition.key, shown, detail)
        hits.append(_Hit(owner, Rank.IDENTIFIER, 1.0, reason))
    return hits


# --- names -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Word:
    """One word typed, with the words of customers' names it may stand for."""

    typed: str
    exact: bool  # some customer's name has this very word
    fuzzy: dict[str, float] = field(default_factory=dict)  # name word → similarity, best first
    rows: int = 0  # index entries of the word itself: how selective it is
    near_rows: int = 0  # index entries of the word and its near spellings

    @property
    def tokens(self) -> list[str]:
        return ([self.typed] if self.exact else []) + list(self.fuzzy)


def _name_hits(text: str, limit: int) -> list[_Hit]:
    """Customers whose name matches the words of ``text``, ranked and explained."""
    typed = normalise.name_tokens(text)[:MAX_WORDS]
    if not typed or not any(char.isalpha() for char in text):
        return []
    words = _known_words(typed)
    wanted = limit * 2  # room for several records of one person and for re-ranking
    candidates: dict[int, str] = {}
    candidates.update(_full_name_candidates(words, wanted))
    if len(candidates) < wanted:
        candidates.update(_all_words_candidates(words, wanted))
    # Typos and unfinished words widen the search beyond full names only when the words as
    # typed are not all words of names, or found nobody: the index work stays small.
    if len(candidates) < wanted and not (candidates and all(word.exact for word in words)):
        candidates.update(_near_candidates(words, wanted))
    hits = []
    for customer_id, full_name in candidates.items():
        hit = _name_hit(customer_id, full_name, typed)
        if hit is not None:
            hits.append(hit)
    return hits


def edits(word: str) -> set[str]:
    """Every string one edit from ``word``: a letter dropped, swapped, changed or added."""
    splits = [(word[:index], word[index:]) for index in range(len(word) + 1)]
    dropped = {left + right[1:] for left, right in splits if right}
    swapped = {left + right[1] + right[0] + right[2:] for left, right in splits if len(right) > 1}
    changed = {left + letter + right[1:] for left, right in splits if right for letter in _ALPHABET}
    added = {left + letter + right for left, right in splits for letter in _ALPHABET}
    return (dropped | swapped | changed | added) - {word, ""}


def _variants(word: str) -> set[str]:
    if len(word) >= FUZZY_MIN_LENGTH and word.isascii() and word.isalpha():
        return {word} | edits(word)
    return {word}


def _known_words(typed: Sequence[str]) -> list[_Word]:
    """The typed words with the name words (of any customer) each may stand for: one query."""
    variants = {word: _variants(word) for word in typed}
    wanted = set().union(*variants.values())
    counts = _token_counts(sorted(wanted))
    words = []
    for word in typed:
        near = {
            token: _similarity(word, token) for token in variants[word] - {word} if token in counts
        }
        best = dict(sorted(near.items(), key=lambda item: (-item[1], item[0])))
        near_rows = sum(counts.get(token, 0) for token in variants[word])
        words.append(_Word(word, word in counts, best, counts.get(word, 0), near_rows))
    return words


def _token_counts(tokens: Sequence[str]) -> dict[str, int]:
    """How many name-index entries each of ``tokens`` has, counted up to :data:`COUNT_CAP`
    (enough to tell a rare word from a common one), for those some customer has: one query.

    Written as SQL with parameters: the ORM's per-value work on the few hundred strings of
    the typo expansion would cost more than the query itself.
    """
    table = connection.ops.quote_name(NameToken._meta.db_table)
    values = ", ".join(["(%s)"] * len(tokens))
    sql = (
        f"WITH typed (token) AS (VALUES {values}) "  # noqa: S608 - only placeholders interpolated
        f"SELECT typed.token, (SELECT COUNT(*) FROM (SELECT 1 FROM {table} capped"
        f" WHERE capped.token = typed.token LIMIT {COUNT_CAP:d}) rows_) FROM typed"
        f" WHERE EXISTS (SELECT 1 FROM {table} known WHERE known.token = typed.token)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, list(tokens))
        return {token: count for token, count in cursor.fetchall()}


def _similarity(typed: str, token: str) -> float:
    # Damerau-Levenshtein: two letters swapped ("trai" for "tari") are one typo, as for edits().
    return float(DamerauLevenshtein.normalized_similarity(typed, token))


def _full_name_candidates(words: Sequence[_Word], wanted: int) -> dict[int, str]:
    """Customers whose whole name is the typed words (or near spellings), in any order.

    Names with fewer misspelt words are asked for first, and within a group the closest
    spellings first, taking each spelling's namesakes in turn: many "Damu Hasanah" cannot
    crowd out the one "Damu Hassanah" meant by "hassnah damu".
    """
    found: dict[int, str] = {}
    for spellings in _full_names(words):
        if len(found) >= wanted:
            break
        rows = Customer.objects.filter(sort_name__in=sorted(spellings)).values_list(
            "sort_name", "id"
        )
        # Read from the (sort_name, id) index alone; only the chosen rows' names are fetched.
        turns: dict[str, int] = defaultdict(int)
        ordered = []
        for sort_name, customer_id in rows[:FULL_NAME_ROWS]:
            turns[sort_name] += 1
            ordered.append((turns[sort_name], -spellings[sort_name], customer_id))
        chosen = [customer_id for *_, customer_id in sorted(ordered)[:wanted]]
        found.update(Customer.objects.filter(pk__in=chosen).values_list("id", "full_name"))
    return found


def _full_names(words: Sequence[_Word]) -> list[dict[str, float]]:
    """Full names made of a spelling of each word, with their closeness to what was typed,
    grouped by how many words are misspelt, fewest first; every order of the words up to
    :data:`PERMUTED_WORDS` words, at most :data:`MAX_FULL_NAMES` names (fewer near spellings
    per word when there would be more)."""
    most = max(len(word.fuzzy) for word in words)
    for per_word in (most, FUZZY_PER_WORD, 2, 1):
        choices = [
            ([(word.typed, 1.0)] if word.exact else []) + list(word.fuzzy.items())[:per_word]
            for word in words
        ]
        orders = math.factorial(len(words)) if len(words) <= PERMUTED_WORDS else 1
        if orders * math.prod(len(choice) for choice in choices) <= MAX_FULL_NAMES:
            break
    if not all(choices):
        return []
    permuted = itertools.permutations(choices) if len(words) <= PERMUTED_WORDS else [choices]
    groups: dict[int, dict[str, float]] = defaultdict(dict)
    for order in permuted:
        for chosen in itertools.product(*order):
            typos = sum(similarity < 1 for _, similarity in chosen)
            name = " ".join(token for token, _ in chosen)
            groups[typos][name] = sum(similarity for _, similarity in chosen)
    return [groups[typos] for typos in sorted(groups)]


def _all_words_candidates(words: Sequence[_Word], wanted: int) -> dict[int, str]:
    """Customers having every word typed, exactly, among the words of their name."""
    if not all(word.exact for word in words):
        return {}
    return _having_all([(word.rows, Q(token=word.typed)) for word in words], wanted)


def _near_candidates(words: Sequence[_Word], wanted: int) -> dict[int, str]:
    """Customers whose name has a near spelling of a word typed, or words starting with a
    word typed: "sri wahyni" finds Sri Wahyuni, "budi sant" and "ed susanto" Budi Santoso and
    Edi Susanto.

    A word that is a word of some name is taken as typed (but for the last, maybe unfinished
    one); a word that is not stands for its near spellings, or else for the words it starts.
    """
    *finished, last = words
    being_typed = name_prefix(last.typed)
    if last.fuzzy:
        being_typed |= Q(token__in=list(last.fuzzy))
    conditions = [_finished_word(word) for word in finished]
    rows = last.near_rows - last.rows + (_prefix_rows(last.typed) if finished else 0)
    conditions.append((rows, being_typed))
    return _having_all(conditions, wanted, scan=NEAR_SCAN)


def _prefix_rows(start: str) -> int:
    """How many name-index entries start with ``start``, counted up to :data:`COUNT_CAP`."""
    return NameToken.objects.filter(name_prefix(start)).order_by()[:COUNT_CAP].count()


def _finished_word(word: _Word) -> tuple[int, Q]:
    """The condition on a word typed before the last, with how many rows it may match."""
    if word.exact:
        return word.rows, Q(token=word.typed)
    if word.fuzzy:
        return word.near_rows, Q(token__in=list(word.fuzzy))
    return sys.maxsize - 1, name_prefix(word.typed)


def _having_all(
    conditions: Sequence[tuple[int, Q]], wanted: int, scan: int | None = None
) -> dict[int, str]:
    """Customers with a name word meeting each condition, the most selective one driving.

    Each further condition is an EXISTS on the (customer, token) index of the driving row's
    customer, so the cost follows the rarest word, not the table. ``scan`` bounds how many
    rows of the driving word are tried (a best-effort search).
    """
    ordered = [condition for _, condition in sorted(conditions, key=lambda item: item[0])]
    rows = NameToken.objects.filter(ordered[0])
    if scan is not None:
        rows = NameToken.objects.filter(pk__in=rows.order_by().values("pk")[:scan])
    for condition in ordered[1:]:
        others = NameToken.objects.filter(condition, customer_id=OuterRef("customer_id"))
        rows = rows.filter(Exists(others))
    ids = list(dict.fromkeys(rows.values_list("customer_id", flat=True)[: wanted * 2]))[:wanted]
    return dict(Customer.objects.filter(pk__in=ids).values_list("id", "full_name"))


@dataclass(frozen=True)
class _WordMatch:
    rank: int  # Rank.FULL_NAME for an exact word, PREFIX or FUZZY otherwise
    score: float
    token: str


def _name_hit(customer_id: int, full_name: str, typed: Sequence[str]) -> _Hit | None:
    """How the name ``full_name`` matches the words ``typed``, or None when it does not."""
    tokens = normalise.name_tokens(full_name)
    free = list(tokens)
    matches: list[_WordMatch] = []
    # Longer words first: they are the least ambiguous when two words compete for one token.
    for word in sorted(typed, key=len, reverse=True):
        match = _best_match(word, free)
        if match is None:
            return None
        free.remove(match.token)
        matches.append(match)
    rank = max(match.rank for match in matches)
    if rank == Rank.FULL_NAME and free:
        rank = Rank.ALL_WORDS
    coverage = len(typed) / max(len(tokens), 1)
    score = sum(match.score for match in matches) / len(matches) * coverage
    return _Hit(customer_id, rank, score, _name_reason(full_name, rank, typed, matches))


def _best_match(word: str, tokens: Iterable[str]) -> _WordMatch | None:
    best: _WordMatch | None = None
    for token in tokens:
        match = _word_match(word, token)
        if match is not None and (
            best is None or (match.rank, -match.score) < (best.rank, -best.score)
        ):
            best = match
    return best


def _word_match(word: str, token: str) -> _WordMatch | None:
    if token == word:
        return _WordMatch(Rank.FULL_NAME, 1.0, token)
    if token.startswith(word):
        return _WordMatch(Rank.PREFIX, 0.5 + 0.5 * len(word) / len(token), token)
    if len(word) >= FUZZY_MIN_LENGTH and DamerauLevenshtein.distance(word, token) <= 1:
        return _WordMatch(Rank.FUZZY, _similarity(word, token), token)
    return None


def _name_reason(
    full_name: str, rank: int, typed: Sequence[str], matches: Sequence[_WordMatch]
) -> Reason:
    if rank == Rank.FULL_NAME:
        detail = _("Full name")
    elif rank == Rank.ALL_WORDS:
        detail = _("Name has every word typed")
    elif rank == Rank.PREFIX:
        detail = _("Name words start with the words typed")
    else:
        ordered = sorted(typed, key=len, reverse=True)
        pairs = ", ".join(
            f"{word} → {match.token}"
            for word, match in zip(ordered, matches, strict=True)
            if match.rank == Rank.FUZZY
        )
        detail = _("Name close to the words typed (%(corrections)s)") % {"corrections": pairs}
    return Reason("name", "full_name", full_name, detail)


# --- results ---------------------------------------------------------------------------------


def _results(hits: Sequence[_Hit], limit: int) -> list[Result]:
    """Hits grouped by the customer standing for them (survivors of merges), best first."""
    if not hits:
        return []
    final = survivors({hit.customer_id for hit in hits})
    grouped: dict[int, list[_Hit]] = defaultdict(list)
    for hit in hits:
        survivor = final[hit.customer_id]
        if survivor != hit.customer_id:
            merged = replace(hit.reason, merged_customer=hit.customer_id)
            hit = replace(hit, customer_id=survivor, reason=merged)
        grouped[survivor].append(hit)
    for group in grouped.values():
        group.sort(key=_order)
    chosen = sorted(grouped, key=lambda customer_id: _order(grouped[customer_id][0]))[:limit]
    customers = Customer.objects.filter(pk__in=chosen, merged_into=None).prefetch_related(
        Prefetch("emails", queryset=CustomerEmail.objects.all()),
        Prefetch("phones", queryset=CustomerPhone.objects.all()),
    )
    by_id = {customer.pk: customer for customer in customers}
    return [
        Result(
            customer=by_id[customer_id],
            rank=grouped[customer_id][0].rank,
            score=round(grouped[customer_id][0].score, 3),
            reasons=_distinct_reasons(grouped[customer_id]),
        )
        for customer_id in chosen
        if customer_id in by_id
    ]


def _order(hit: _Hit) -> tuple[int, float, int]:
    return (hit.rank, -hit.score, hit.customer_id)


def _distinct_reasons(hits: Iterable[_Hit]) -> list[Reason]:
    return list(dict.fromkeys(hit.reason for hit in hits))


# --- the caller ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallerCard:
    """What an agent needs on screen when this customer calls."""

    customer: Customer
    last_order: Order | None
    open_tickets: list[Ticket]
    overdue_services: list[Subscription]
    today: datetime.date

    def days_overdue(self, service: Subscription) -> int:
        return (self.today - service.next_due).days if service.next_due else 0


@dataclass(frozen=True)
class CallerLookup:
    number: str  # E.164
    cards: list[CallerCard]


def caller_lookup(phone: str, *, today: datetime.date | None = None) -> CallerLookup:
    """The customers a phone number in any format belongs to (usually one; a shared family or
    office number can give several), most recent buyer first.

    Raises :class:`InvalidValue` (field ``phone``) when ``phone`` is not a phone number.
    """
    number = normalise.phone(phone, field="phone")
    today = today or timezone.localdate()
    owners = CustomerPhone.objects.filter(number=number).values_list("customer_id", flat=True)
    ids = set(survivors(set(owners[:MAX_LIMIT])).values())
    customers = Customer.objects.filter(pk__in=ids, merged_into=None).prefetch_related(
        "emails", "phones"
    )
    cards = [_card(customer, today) for customer in customers]
    cards.sort(key=_card_order)
    return CallerLookup(number, cards)


def _card(customer: Customer, today: datetime.date) -> CallerCard:
    return CallerCard(
        customer=customer,
        last_order=Order.objects.filter(customer=customer).order_by("-ordered_at", "-id").first(),
        open_tickets=list(
            Ticket.objects.filter(customer=customer, status__in=Ticket.OPEN_STATUSES).order_by(
                "-opened_at", "-id"
            )[:CALLER_LIST_LIMIT]
        ),
        overdue_services=list(
            Subscription.objects.filter(
                customer=customer, status=Subscription.Status.ACTIVE, next_due__lt=today
            ).order_by("next_due", "id")[:CALLER_LIST_LIMIT]
        ),
        today=today,
    )


def _card_order(card: CallerCard) -> tuple[bool, float, int]:
    ordered = card.last_order.ordered_at.timestamp() if card.last_order else 0.0
    return (card.last_order is None, -ordered, card.customer.pk)
