from __future__ import annotations

from django.urls import path

from . import urls_campaigns, urls_door, urls_imports, urls_ledger, views

app_name = "screening"

urlpatterns = [
    path("risk-areas/", views.risk_area_list, name="risk_area_list"),
    path("risk-areas/new/", views.risk_area_create, name="risk_area_create"),
    path("risk-areas/<str:region_code>/end/", views.risk_area_end, name="risk_area_end"),
    path("regions/search/", views.region_search, name="region_search"),
    # Campaigns, coverage, to-do lists, rules (views_campaigns.py)
    *urls_campaigns.urlpatterns,
    # At the door and new arrivals, the phone pages (views_door.py)
    *urls_door.urlpatterns,
    # The ledger and its export, screening details, contact graph (views_ledger.py)
    *urls_ledger.urlpatterns,
    # Risk-area list import (views_imports.py)
    *urls_imports.urlpatterns,
]
