"""URLs of the screening pages: see urls.py."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views_imports

urlpatterns: list[URLPattern] = [
    path("risk-areas/import/", views_imports.risk_area_import, name="risk_area_import"),
    path(
        "risk-areas/import/template/",
        views_imports.risk_area_template,
        name="risk_area_template",
    ),
]
