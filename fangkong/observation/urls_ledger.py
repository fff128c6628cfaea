"""URLs of the observation ledger, starting episodes, decisions, period changes, the rules
and presets, and the person page's section: see urls.py."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views_ledger

urlpatterns: list[URLPattern] = [
    path("", views_ledger.ledger, name="ledger"),
    path("export/", views_ledger.ledger_export, name="ledger_export"),
    path("start/", views_ledger.start, name="start"),
    path("bulk-start/", views_ledger.bulk_start, name="bulk_start"),
    path("<int:episode_id>/decide/", views_ledger.decide, name="decide"),
    path("<int:episode_id>/period/", views_ledger.change_period, name="change_period"),
    path("settings/", views_ledger.settings_page, name="settings"),
    path("settings/presets/new/", views_ledger.preset_create, name="preset_create"),
    path("settings/presets/<int:preset>/", views_ledger.preset_edit, name="preset_edit"),
    path("person/<int:person_id>/", views_ledger.person_episodes, name="person_episodes"),
]
