"""URLs of the duty pages (included by urls.py under the app's namespace)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views_duty as views

urlpatterns: list[URLPattern] = [
    path("duty/", views.roster, name="roster"),
    path("duty/print/", views.roster_print, name="roster_print"),
    path("duty/rules/", views.rules_page, name="duty_rules"),
    path("duty/posts/", views.post_list, name="post_list"),
    path("duty/posts/new/", views.post_create, name="post_create"),
    path("duty/posts/<int:post_id>/", views.post_week, name="post_week"),
    path("duty/posts/<int:post_id>/edit/", views.post_edit, name="post_edit"),
    path("duty/posts/<int:post_id>/state/", views.post_state, name="post_state"),
    path("duty/posts/<int:post_id>/shifts/new/", views.shift_create, name="shift_create"),
    path("duty/posts/<int:post_id>/copy-week/", views.copy_week, name="copy_week"),
    path("duty/shifts/<int:shift_id>/edit/", views.shift_edit, name="shift_edit"),
    path("duty/shifts/<int:shift_id>/cancel/", views.shift_cancel, name="shift_cancel"),
    path("duty/shifts/<int:shift_id>/swap/", views.shift_swap, name="shift_swap"),
    path("pioneers/", views.pioneer_list, name="pioneer_list"),
    path("pioneers/new/", views.pioneer_create, name="pioneer_create"),
    path("pioneers/persons/", views.pioneer_person_search, name="pioneer_persons"),
    path("pioneers/<int:pioneer_id>/", views.pioneer_detail, name="pioneer_detail"),
    path("pioneers/<int:pioneer_id>/edit/", views.pioneer_edit, name="pioneer_edit"),
    path("pioneers/<int:pioneer_id>/state/", views.pioneer_state, name="pioneer_state"),
]
