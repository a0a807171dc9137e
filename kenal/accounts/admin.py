from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from kenal.accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    list_display = ("username", "email", "first_name", "last_name", "role", "is_active")
    list_filter = ("role", "is_active")
    fieldsets = (*(BaseUserAdmin.fieldsets or ()), ("Kenal", {"fields": ("role",)}))
