"""Django admin for the system administrator only (is_staff is given to that role alone).

Day-to-day work happens in the app's pages, which apply the scope rules and record every
view of a full ID or phone number; so households and persons are deliberately not in the
admin. It is the operator's tool for users, role assignments, org units and API tokens.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from simple_history.admin import SimpleHistoryAdmin

from .models import ApiToken, OrgUnit, RoleAssignment, User


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    autocomplete_fields = ["org_unit"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [RoleAssignmentInline]
    list_display = ["username", "full_name", "is_active", "last_login"]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("fangkong", {"fields": ("full_name", "phone")}),
    )


@admin.register(OrgUnit)
class OrgUnitAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "kind", "parent", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]
    readonly_fields = ["path", "depth"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "key_hash", "created_at", "last_used_at"]
