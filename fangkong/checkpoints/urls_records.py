"""URLs of the records pages (included by urls.py under the app's namespace): cleaning and
disinfection, and publicity."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views_records as views

urlpatterns: list[URLPattern] = [
    path("disinfection/", views.place_list, name="place_list"),
    path("disinfection/record/", views.disinfect, name="disinfect"),
    path("disinfection/places/new/", views.place_create, name="place_create"),
    path("disinfection/places/<int:place_id>/", views.place_detail, name="place_detail"),
    path("disinfection/places/<int:place_id>/edit/", views.place_edit, name="place_edit"),
    path("disinfection/places/<int:place_id>/state/", views.place_state, name="place_state"),
    path("disinfection/places/<int:place_id>/record/", views.place_record, name="place_record"),
    path("disinfection/log/", views.disinfection_list, name="disinfection_list"),
    path("disinfection/log/export/", views.disinfection_export, name="disinfection_export"),
    path(
        "disinfection/log/<int:disinfection_id>/edit/",
        views.disinfection_edit,
        name="disinfection_edit",
    ),
    path("publicity/", views.publicity_list, name="publicity_list"),
    path("publicity/new/", views.publicity_create, name="publicity_create"),
    path("publicity/export/", views.publicity_export, name="publicity_export"),
    path("publicity/<int:publicity_id>/", views.publicity_detail, name="publicity_detail"),
    path("publicity/<int:publicity_id>/edit/", views.publicity_edit, name="publicity_edit"),
]
