"""What customers do and say: orders, interactions, tickets, services, feedback, web and app
events, carts, and the traits computed from all of them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kenal.customers.models import Customer


class Product(models.Model):
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=100, blank=True, db_index=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        RETURNED = "returned", _("Returned")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    source = models.CharField(_("source"), max_length=100)
    order_number = models.CharField(_("order number"), max_length=100)
    ordered_at = models.DateTimeField(_("ordered"), db_index=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.COMPLETED
    )
    channel = models.CharField(_("channel"), max_length=100, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="IDR")
    total = models.DecimalField(_("total"), max_digits=16, decimal_places=2)
    # "import-<id>" for orders an import created: what reverting that import removes.
    import_batch = models.CharField(max_length=100, blank=True, db_index=True)

    class Meta:
        ordering = ["-ordered_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "order_number"], name="order_once_per_source"
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-ordered_at"], name="order_customer_recent"),
            # The lookup finds an order by its number from any source.
            models.Index(fields=["order_number"], name="order_number_lookup"),
        ]

    def __str__(self) -> str:
        return self.order_number


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_items")
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    unit_price = models.DecimalField(_("unit price"), max_digits=16, decimal_places=2)

    class Meta:
        verbose_name = _("order item")
        verbose_name_plural = _("order items")

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product}"  # noqa: RUF001 - the multiplication sign


class Interaction(models.Model):
    """A conversation or meeting with a customer: who, how, which way and how it ended."""

    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        CHAT = "chat", _("Chat")
        EMAIL = "email", _("Email")
        VISIT = "visit", _("Store visit")
        MEETING = "meeting", _("Meeting")

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")

    class Outcome(models.TextChoices):
        REACHED = "reached", _("Reached")
        NO_ANSWER = "no_answer", _("No answer")
        VOICEMAIL = "voicemail", _("Left a message")
        RESOLVED = "resolved", _("Resolved")
        FOLLOW_UP = "follow_up", _("Follow-up needed")
        SALE = "sale", _("Sale")
        NOT_INTERESTED = "not_interested", _("Not interested")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="interactions")
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices)
    direction = models.CharField(_("direction"), max_length=16, choices=Direction.choices)
    channel = models.CharField(_("channel"), max_length=50, blank=True)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    occurred_at = models.DateTimeField(_("when"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="interaction_customer_recent")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"


class Ticket(models.Model):
    """A support case: open until resolved or closed."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("status", "Open")
        PENDING = "pending", _("Waiting on customer")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", pgettext_lazy("status", "Closed")

    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")
        URGENT = "urgent", _("Urgent")

    OPEN_STATUSES = (Status.OPEN, Status.PENDING)

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tickets")
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    priority = models.CharField(
        _("priority"), max_length=16, choices=Priority.choices, default=Priority.NORMAL
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    opened_at = models.DateTimeField(_("opened"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("support ticket")
        verbose_name_plural = _("support tickets")
        indexes = [models.Index(fields=["customer", "status"], name="ticket_customer_status")]

    def __str__(self) -> str:
        return self.subject


class Subscription(models.Model):
    """A service the customer has with the business, due again on ``next_due``."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        CANCELLED = "cancelled", _("Cancelled")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="subscriptions")
    name = models.CharField(_("service"), max_length=200)
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="subscriptions"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    started_on = models.DateField(_("started"))
    interval_days = models.PositiveIntegerField(_("every (days)"), null=True, blank=True)
    next_due = models.DateField(_("next due"), null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["next_due", "id"]
        verbose_name = _("service")
        verbose_name_plural = _("services")

    def __str__(self) -> str:
        return self.name


class Feedback(models.Model):
    """What a customer thinks: a rating, an NPS or CSAT answer, or a comment."""

    class Kind(models.TextChoices):
        RATING = "rating", _("Rating (1 to 5)")
        NPS = "nps", _("NPS (0 to 10)")
        CSAT = "csat", _("CSAT (1 to 5)")
        COMMENT = "comment", _("Comment")

    SCALES: dict[str, tuple[int, int]] = {
        Kind.RATING: (1, 5),
        Kind.NPS: (0, 10),
        Kind.CSAT: (1, 5),
    }

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="feedback")
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices)
    score = models.SmallIntegerField(_("score"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    channel = models.CharField(_("channel"), max_length=50, blank=True)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback"
    )
    given_at = models.DateTimeField(_("given"))

    class Meta:
        ordering = ["-given_at", "-id"]
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        indexes = [models.Index(fields=["customer", "kind", "-given_at"], name="feedback_recent")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.score if self.score is not None else ''}".strip()


class Event(models.Model):
    """Something a person did on a website or app, as a tracking call reported it.

    ``customer`` is empty while the person is anonymous; identifying them later links
    every event with the same ``anonymous_id``.
    """

    class Kind(models.TextChoices):
        TRACK = "track", _("Action")
        PAGE = "page", _("Page view")
        SCREEN = "screen", _("Screen view")
        IDENTIFY = "identify", _("Identified")
        GROUP = "group", _("Group")
        ALIAS = "alias", _("Alias")

    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    anonymous_id = models.CharField(_("anonymous id"), max_length=100, blank=True)
    # The source's own id of the person, when the call named one: undoing a merge sends the
    # events that came in since back to the customer this id belongs to.
    user_id = models.CharField(_("user id"), max_length=100, blank=True, db_default="")
    source = models.CharField(_("source"), max_length=100)
    # The sender's message id: a message sent twice is stored once.
    message_id = models.CharField(_("message id"), max_length=100)
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200, blank=True)
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    properties = models.JSONField(_("properties"), default=dict, blank=True)
    occurred_at = models.DateTimeField(_("when"))
    received_at = models.DateTimeField(_("received"), auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("event")
        verbose_name_plural = _("events")
        constraints = [
            models.UniqueConstraint(fields=["source", "message_id"], name="event_once_per_source")
        ]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="event_customer_recent"),
            models.Index(fields=["anonymous_id"], name="event_anonymous"),
        ]

    def __str__(self) -> str:
        return self.name or self.get_kind_display()


class Cart(models.Model):
    """A shopping cart seen through tracking: open until ordered; an idle open cart is abandoned."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("status", "Open")
        ORDERED = "ordered", _("Ordered")

    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="carts"
    )
    anonymous_id = models.CharField(_("anonymous id"), max_length=100, blank=True, db_index=True)
    source = models.CharField(_("source"), max_length=100)
    cart_id = models.CharField(_("cart id"), max_length=100)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="carts"
    )
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("cart")
        verbose_name_plural = _("carts")
        constraints = [
            models.UniqueConstraint(fields=["source", "cart_id"], name="cart_once_per_source")
        ]

    def __str__(self) -> str:
        return self.cart_id


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="cart_items")
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    unit_price = models.DecimalField(_("unit price"), max_digits=16, decimal_places=2, null=True)

    class Meta:
        verbose_name = _("cart item")
        verbose_name_plural = _("cart items")
        constraints = [models.UniqueConstraint(fields=["cart", "product"], name="cart_item_once")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product}"  # noqa: RUF001 - the multiplication sign


class CustomerTraits(models.Model):
    """Figures about one customer, recomputed whenever an activity of theirs is written.

    Windows ("in the last 30 days", "overdue") are as of ``computed_at``; the daily
    ``kenal traits refresh`` moves them on for customers with no new activity.
    """

    class NpsCategory(models.TextChoices):
        PROMOTER = "promoter", _("Promoter")
        PASSIVE = "passive", _("Passive")
        DETRACTOR = "detractor", _("Detractor")

    customer = models.OneToOneField(
        Customer, primary_key=True, on_delete=models.CASCADE, related_name="traits"
    )
    order_count = models.PositiveIntegerField(_("orders"), default=0, db_index=True)
    total_spend = models.DecimalField(
        _("total spend"), max_digits=18, decimal_places=2, default=0, db_index=True
    )
    average_spend = models.DecimalField(
        _("average order"), max_digits=18, decimal_places=2, default=0
    )
    first_order_at = models.DateTimeField(_("first order"), null=True, blank=True)
    last_order_at = models.DateTimeField(_("last order"), null=True, blank=True, db_index=True)
    favourite_category = models.CharField(_("favourite category"), max_length=100, blank=True)
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True, db_index=True)
    last_contact_channel = models.CharField(_("last contact channel"), max_length=50, blank=True)
    last_contact_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last contacted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    open_tickets = models.PositiveIntegerField(_("open tickets"), default=0)
    overdue_services = models.PositiveIntegerField(_("overdue services"), default=0)
    latest_nps = models.SmallIntegerField(_("latest NPS"), null=True, blank=True)
    nps_category = models.CharField(
        _("NPS category"), max_length=16, choices=NpsCategory.choices, blank=True
    )
    visits_30d = models.PositiveIntegerField(_("visits (30 days)"), default=0)
    opens_30d = models.PositiveIntegerField(_("email opens (30 days)"), default=0)
    computed_at = models.DateTimeField(_("computed"))

    class Meta:
        verbose_name = _("customer traits")
        verbose_name_plural = _("customer traits")

    def __str__(self) -> str:
        return f"traits of #{self.customer_id}"
