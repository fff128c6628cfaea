"""URLs of the screening pages: see urls.py."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views_ledger

urlpatterns: list[URLPattern] = [
    path("ledger/", views_ledger.ledger, name="ledger"),
    path("ledger/export/", views_ledger.ledger_export, name="ledger_export"),
    path(
        "screenings/<int:screening_id>/",
        views_ledger.screening_detail,
        name="screening_detail",
    ),
    path(
        "persons/<int:person_id>/screenings/",
        views_ledger.person_screenings,
        name="person_screenings",
    ),
]
