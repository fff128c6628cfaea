"""URLs of the screening pages: see urls.py."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views_campaigns as views

urlpatterns: list[URLPattern] = [
    path("campaigns/", views.campaign_list, name="campaign_list"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("campaigns/<int:campaign_id>/", views.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:campaign_id>/edit/", views.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:campaign_id>/close/", views.campaign_close, name="campaign_close"),
    path("campaigns/<int:campaign_id>/reopen/", views.campaign_reopen, name="campaign_reopen"),
    path("campaigns/<int:campaign_id>/todo/", views.campaign_todo, name="campaign_todo"),
    path(
        "campaigns/<int:campaign_id>/grids/<int:orgunit_id>/assign/",
        views.campaign_assign,
        name="campaign_assign",
    ),
    path("rules/", views.rules, name="rules"),
]
