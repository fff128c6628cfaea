"""/r/: the public self-report page of the person under observation (no login; the
unguessable token in the link is the key)."""

from __future__ import annotations

from django.urls import path

from . import views_selfreport

app_name = "selfreport"

urlpatterns = [
    path("<str:token>/", views_selfreport.report, name="report"),
    path("<str:token>/thanks/", views_selfreport.thanks, name="thanks"),
]
