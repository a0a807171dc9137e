"""What customers do: orders and the products in them (more activity types follow)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

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
        indexes = [models.Index(fields=["customer", "-ordered_at"], name="order_customer_recent")]

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
