from __future__ import annotations

from django.urls import path

from . import views, views_export, views_import

app_name = "org"

urlpatterns = [
    # Excel: export and template routes (views_export.py)
    path("persons/export/", views_export.person_export, name="person_export"),
    path(
        "persons/export/full/",
        views_export.person_export_unmasked,
        name="person_export_unmasked",
    ),
    path("persons/template/", views_export.roster_template, name="roster_template"),
    # Excel: import routes (views_import.py)
    path("persons/import/", views_import.person_import, name="person_import"),
    path("units/", views.unit_tree, name="unit_tree"),
    path("units/new/", views.unit_create, name="unit_create"),
    path("units/<int:orgunit_id>/", views.unit_detail, name="unit_detail"),
    path("units/<int:orgunit_id>/edit/", views.unit_edit, name="unit_edit"),
    path("households/", views.household_list, name="household_list"),
    path("households/new/", views.household_create, name="household_create"),
    path("households/pick/", views.household_pick, name="household_pick"),
    path("households/<int:household_id>/", views.household_detail, name="household_detail"),
    path("households/<int:household_id>/edit/", views.household_edit, name="household_edit"),
    path("persons/", views.person_list, name="person_list"),
    path("persons/new/", views.person_create, name="person_create"),
    path("persons/<int:person_id>/", views.person_detail, name="person_detail"),
    path("persons/<int:person_id>/edit/", views.person_edit, name="person_edit"),
    path(
        "persons/<int:person_id>/reveal/<str:field_name>/",
        views.person_reveal,
        name="person_reveal",
    ),
]
