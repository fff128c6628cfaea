"""The pages of the daily report (added with the pages; the API is in api.py)."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "reporting"

urlpatterns: list[URLPattern] = []
