"""The customer record (the golden record later capabilities enrich) and what feeds it."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")


class IncomeBand(models.TextChoices):
    LOW = "low", _("Low")
    LOWER_MIDDLE = "lower_middle", _("Lower middle")
    MIDDLE = "middle", _("Middle")
    UPPER_MIDDLE = "upper_middle", _("Upper middle")
    HIGH = "high", _("High")


class MaritalStatus(models.TextChoices):
    SINGLE = "single", _("Single")
    MARRIED = "married", _("Married")
    DIVORCED = "divorced", _("Divorced")
    WIDOWED = "widowed", _("Widowed")


class Education(models.TextChoices):
    PRIMARY = "primary", _("Primary school")
    SECONDARY = "secondary", _("Secondary school")
    DIPLOMA = "diploma", _("Diploma")
    BACHELOR = "bachelor", _("Bachelor's degree")
    MASTER = "master", _("Master's degree")
    DOCTORATE = "doctorate", _("Doctorate")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    WHATSAPP = "whatsapp", _("WhatsApp")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone call")
    POST = "post", _("Post")


class LifecycleStage(models.TextChoices):
    SUSPECT = "suspect", _("Suspect")
    PROSPECT = "prospect", _("Prospect")
    CUSTOMER = "customer", _("Customer")
    LOYAL = "loyal", _("Loyal")
    LAPSED = "lapsed", _("Lapsed")
    WON_BACK = "won_back", _("Won back")


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=64, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    given_name = models.CharField(_("given name"), max_length=100, blank=True)
    family_name = models.CharField(_("family name"), max_length=100, blank=True)
    # Lower-cased, accent-free full name: the sort key of the customer list (indexed with id).
    sort_name = models.CharField(max_length=200, blank=True, editable=False)
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    job_title = models.CharField(_("job title"), max_length=200, blank=True)
    income_band = models.CharField(
        _("income band"), max_length=16, choices=IncomeBand.choices, blank=True
    )
    marital_status = models.CharField(
        _("marital status"), max_length=16, choices=MaritalStatus.choices, blank=True
    )
    education = models.CharField(
        _("education"), max_length=16, choices=Education.choices, blank=True
    )
    preferred_language = models.CharField(
        _("preferred language"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
    )
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=16, choices=Channel.choices, blank=True
    )
    lifecycle_stage = models.CharField(
        _("lifecycle stage"),
        max_length=16,
        choices=LifecycleStage.choices,
        default=LifecycleStage.PROSPECT,
        db_index=True,
    )
    # Staff are warned before contacting this customer, whatever their consents say.
    do_not_contact = models.BooleanField(_("do not contact"), default=False, db_default=False)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="customers")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_customers",
    )
    # Set when this customer was merged into another: the row stays so the merge can be undone.
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_customers",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [models.Index(fields=["sort_name", "id"], name="customer_sort_name_id")]

    def __str__(self) -> str:
        return self.full_name or f"#{self.pk}"

    @property
    def primary_email(self) -> str:
        return _primary(self.emails.all(), "email")

    @property
    def primary_phone(self) -> str:
        return _primary(self.phones.all(), "number")


def _primary(rows: Iterable[CustomerEmail | CustomerPhone], attr: str) -> str:
    """The primary row's value, else the first one's (uses prefetched rows)."""
    items = list(rows)
    chosen = next((item for item in items if item.is_primary), items[0] if items else None)
    return str(getattr(chosen, attr)) if chosen else ""


class CustomerEmail(models.Model):
    # Not indexed alone: the unique (customer, email) constraint serves lookups by customer.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="emails", db_index=False
    )
    email = models.CharField(_("email"), max_length=254, db_index=True)
    is_primary = models.BooleanField(_("primary"), default=False)
    is_verified = models.BooleanField(_("verified"), default=False)

    class Meta:
        ordering = ["-is_primary", "id"]
        verbose_name = _("email address")
        verbose_name_plural = _("email addresses")
        constraints = [
            models.UniqueConstraint(fields=["customer", "email"], name="customer_email_once"),
        ]
        # Matching and search compare whole addresses without case: this index serves both.
        indexes = [models.Index(Lower("email"), name="customer_email_lower")]

    def __str__(self) -> str:
        return self.email


class CustomerPhone(models.Model):
    # Not indexed alone: the unique (customer, number) constraint serves lookups by customer.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="phones", db_index=False
    )
    number = models.CharField(_("phone number"), max_length=20, db_index=True)  # E.164
    is_primary = models.BooleanField(_("primary"), default=False)
    is_verified = models.BooleanField(_("verified"), default=False)

    class Meta:
        ordering = ["-is_primary", "id"]
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")
        constraints = [
            models.UniqueConstraint(fields=["customer", "number"], name="customer_phone_once"),
        ]

    def __str__(self) -> str:
        return self.number


class Address(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    label = models.CharField(_("label"), max_length=50, blank=True)
    street = models.CharField(_("street"), max_length=255, blank=True)
    village = models.CharField(_("village / kelurahan"), max_length=100, blank=True)
    district = models.CharField(_("district / kecamatan"), max_length=100, blank=True)
    city = models.CharField(_("city / kabupaten"), max_length=100, blank=True, db_index=True)
    province = models.CharField(_("province"), max_length=100, blank=True)
    postcode = models.CharField(_("postcode"), max_length=16, blank=True, db_index=True)
    country = models.CharField(_("country"), max_length=2, blank=True)  # ISO 3166-1 alpha-2
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        ordering = ["-is_primary", "id"]
        verbose_name = _("address")
        verbose_name_plural = _("addresses")

    def __str__(self) -> str:
        parts = (self.street, self.village, self.district, self.city, self.province, self.postcode)
        return ", ".join(part for part in parts if part)


class NameToken(models.Model):
    """One word of a customer's name, accent-free and lower-case: the search index.

    Prefix range queries on ``token`` find "santoso" in "Budi Santoso" without
    scanning the customer table, on SQLite and PostgreSQL alike.
    """

    # Not indexed alone: the unique (customer, token) constraint serves lookups by customer.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="name_tokens", db_index=False
    )
    token = models.CharField(max_length=100)

    class Meta:
        indexes = [models.Index(fields=["token", "customer"], name="name_token_lookup")]
        constraints = [
            models.UniqueConstraint(fields=["customer", "token"], name="name_token_once"),
        ]

    def __str__(self) -> str:
        return self.token


class Note(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    body = models.TextField(_("note"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("note")
        verbose_name_plural = _("notes")

    def __str__(self) -> str:
        return self.body[:60]


class SourceRecord(models.Model):
    """A value set exactly as received, with where and when it came from.

    Kept whether or not it passed validation, so nothing received is ever lost;
    ``errors`` holds the problems that kept it from reaching the customer.
    """

    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        REJECTED = "rejected", _("Rejected")

    class Action(models.TextChoices):
        """What the record did to the customer it reached."""

        CREATED = "created", _("Created a customer")
        UPDATED = "updated", _("Updated a customer")
        MERGED = "merged", _("Merged into a customer from the same batch")
        UNCHANGED = "unchanged", _("Matched a customer, changed nothing")

    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="source_records"
    )
    # Indexed with external_id (source first), which serves lookups by source alone too.
    source = models.CharField(_("source"), max_length=100)
    batch_id = models.CharField(_("batch"), max_length=100, blank=True, db_index=True)
    external_id = models.CharField(_("id in the source"), max_length=200, blank=True)
    # The row's line or position in the file it was imported from (1 = first data row).
    row_number = models.PositiveIntegerField(_("row"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices, blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    data = models.JSONField(_("values as received"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    errors = models.JSONField(_("errors"), default=list, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("source record")
        verbose_name_plural = _("source records")
        indexes = [models.Index(fields=["source", "external_id"], name="source_external_id")]

    def __str__(self) -> str:
        return f"{self.source} {self.received_at:%Y-%m-%d %H:%M}"


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    LONG_TEXT = "long_text", _("Long text")
    INTEGER = "integer", _("Whole number")
    DECIMAL = "decimal", _("Decimal number")
    MONEY = "money", _("Money")
    DATE = "date", _("Date")
    DATETIME = "datetime", _("Date and time")
    BOOLEAN = "boolean", _("Yes / no")
    CHOICE = "choice", _("Single choice")
    MULTIPLE_CHOICE = "multiple_choice", _("Multiple choice")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    URL = "url", _("URL")


class CustomField(models.Model):
    """A field an administrator adds to every customer of this business."""

    key = models.SlugField(_("key"), max_length=64, unique=True)
    label = models.CharField(_("label"), max_length=100)
    field_type = models.CharField(_("type"), max_length=16, choices=FieldType.choices)
    required = models.BooleanField(_("required"), default=False)
    unique = models.BooleanField(_("unique"), default=False)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    currency = models.CharField(_("default currency"), max_length=3, blank=True)
    help_text = models.CharField(_("help text"), max_length=255, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")

    def __str__(self) -> str:
        return self.label

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class CustomFieldValue(models.Model):
    """One typed value of a custom field; a multiple choice keeps one row per option.

    Each type has its own indexed column, so equality and range filters use an
    index on both databases. Long text is kept apart: it is never indexed.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="custom_values")
    field = models.ForeignKey(CustomField, on_delete=models.CASCADE, related_name="values")
    ordinal = models.PositiveSmallIntegerField(default=0)
    # NULL, not "", marks "no value in this column": an empty text is never stored.
    text = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    long_text = models.TextField(null=True, blank=True)  # noqa: DJ001
    integer = models.BigIntegerField(null=True, blank=True)
    decimal = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    date = models.DateField(null=True, blank=True)
    datetime = models.DateTimeField(null=True, blank=True)
    boolean = models.BooleanField(null=True, blank=True)
    # "<field id>:<canonical value>" for unique fields: the database enforces uniqueness.
    unique_key = models.CharField(max_length=300, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("custom field value")
        verbose_name_plural = _("custom field values")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "field", "ordinal"], name="custom_value_slot_once"
            ),
        ]
        indexes = [
            models.Index(fields=["field", "text"], name="custom_value_text"),
            models.Index(fields=["field", "integer"], name="custom_value_integer"),
            models.Index(fields=["field", "decimal"], name="custom_value_decimal"),
            models.Index(fields=["field", "date"], name="custom_value_date"),
            models.Index(fields=["field", "datetime"], name="custom_value_datetime"),
            models.Index(fields=["field", "boolean"], name="custom_value_boolean"),
        ]

    def __str__(self) -> str:
        return f"{self.field.key}[{self.ordinal}]"
