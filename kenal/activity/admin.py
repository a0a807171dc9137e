"""Back-office views of orders and products."""

from __future__ import annotations

from django.contrib import admin

from kenal.activity.models import Order, OrderItem, Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "sku", "category")
    list_filter = ("category",)
    search_fields = ("name", "=sku")


class OrderItemInline(admin.TabularInline):  # type: ignore[type-arg]
    model = OrderItem
    extra = 0
    autocomplete_fields = ("product",)
    fields = ("product", "quantity", "unit_price")


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "order_number",
        "customer",
        "ordered_at",
        "status",
        "currency",
        "total",
        "source",
    )
    list_filter = ("status", "source", "channel")
    list_select_related = ("customer",)
    search_fields = ("=order_number", "customer__full_name")
    autocomplete_fields = ("customer",)
    date_hierarchy = "ordered_at"
    show_full_result_count = False
    inlines = (OrderItemInline,)


@admin.register(OrderItem)
class OrderItemAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("order", "product", "quantity", "unit_price")
    list_select_related = ("order", "product")
    search_fields = ("=order__order_number", "product__name")
    autocomplete_fields = ("order", "product")
    show_full_result_count = False
