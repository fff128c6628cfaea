from __future__ import annotations

from django.urls import path

from . import views

app_name = "screening"

urlpatterns = [
    path("risk-areas/", views.risk_area_list, name="risk_area_list"),
    path("risk-areas/new/", views.risk_area_create, name="risk_area_create"),
    path("risk-areas/<str:region_code>/end/", views.risk_area_end, name="risk_area_end"),
    path("regions/search/", views.region_search, name="region_search"),
]
