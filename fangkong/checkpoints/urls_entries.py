"""URLs of the entries pages (included by urls.py under the app's namespace): the
checkpoints, the gate, the entry log and the daily counts."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views_entries as views

urlpatterns: list[URLPattern] = [
    path("", views.checkpoint_list, name="checkpoint_list"),
    path("new/", views.checkpoint_create, name="checkpoint_create"),
    path("<int:checkpoint_id>/", views.checkpoint_detail, name="checkpoint_detail"),
    path("<int:checkpoint_id>/edit/", views.checkpoint_edit, name="checkpoint_edit"),
    path(
        "<int:checkpoint_id>/deactivate/",
        views.checkpoint_deactivate,
        name="checkpoint_deactivate",
    ),
    path("<int:checkpoint_id>/gate/", views.gate, name="gate"),
    path("<int:checkpoint_id>/gate/persons/", views.gate_persons, name="gate_persons"),
    path("gate/regions/", views.gate_regions, name="gate_regions"),
    path("entries/", views.entry_list, name="entry_list"),
    path("entries/export/", views.entry_export, name="entry_export"),
    path("entries/<int:entry_id>/", views.entry_detail, name="entry_detail"),
    path("entries/<int:entry_id>/correct/", views.entry_correct, name="entry_correct"),
    path("counts/", views.entry_counts, name="entry_counts"),
]
