"""URLs of the screening pages: see urls.py."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views_door

_household = "campaigns/<int:campaign_id>/households/<int:household_id>/"
_person = "campaigns/<int:campaign_id>/persons/<int:person_id>/"

urlpatterns: list[URLPattern] = [
    path(_household, views_door.door_household, name="door_household"),
    path(f"{_household}nobody-home/", views_door.door_nobody_home, name="door_nobody_home"),
    path(f"{_household}checked/", views_door.door_checked, name="door_checked"),
    path(f"{_household}add-person/", views_door.door_add_person, name="door_add_person"),
    path(_person, views_door.door_person, name="door_person"),
    path(f"{_person}quick/", views_door.door_quick, name="door_quick"),
    path("arrivals/new/", views_door.arrival_create, name="arrival_create"),
    path("door/regions/", views_door.door_region_search, name="door_region_search"),
    path("door/persons/", views_door.door_person_search, name="door_person_search"),
]
