"""一人一表 of an episode: the A4 page, the .xlsx file and the temperature chart."""

from __future__ import annotations

from django.urls import path

from . import views_sheet

urlpatterns = [
    path("<int:episode_id>/sheet/", views_sheet.sheet, name="sheet"),
    path("<int:episode_id>/sheet.xlsx", views_sheet.sheet_xlsx, name="sheet_xlsx"),
    path("<int:episode_id>/chart.svg", views_sheet.chart, name="chart"),
]
