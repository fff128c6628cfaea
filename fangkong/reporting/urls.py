"""The pages of the daily report (the API is in api.py): a day's list, one report with its
review, the unit's report of a day, completeness, the branch report, the settings."""

from __future__ import annotations

from django.urls import path

from . import views_branch, views_day, views_file, views_period, views_settings

app_name = "reporting"

urlpatterns = [
    path("", views_day.day_list, name="day"),
    path("reports/<int:report_id>/", views_day.report_detail, name="report"),
    path("reports/<int:report_id>/approve/", views_day.approve, name="approve"),
    path("reports/<int:report_id>/return/", views_day.return_report, name="return"),
    path("units/<int:orgunit_id>/file/", views_file.file_report, name="file"),
    path("completeness/", views_period.completeness, name="completeness"),
    path("branch/", views_branch.branch, name="branch"),
    path("branch.xlsx", views_branch.branch_xlsx, name="branch_xlsx"),
    path("branch/approve/", views_branch.branch_approve, name="branch_approve"),
    path("settings/", views_settings.settings_page, name="settings"),
    path("settings/indicator/", views_settings.indicator_form, name="indicator"),
    path("settings/indicator/state/", views_settings.indicator_state, name="indicator_state"),
]
