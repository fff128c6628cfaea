from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    """The daily zero report (每日零报告) and unified upward reporting (统一信息报送):
    indicators, unit reports with review and versions, completeness and timeliness, the
    branch report, and the deadline job that finds missing reports."""

    name = "fangkong.reporting"
    label = "reporting"
    verbose_name = _("Daily reports")

    def ready(self) -> None:
        from fangkong.core import jobs, scoping
        from fangkong.core.permissions import Perm

        from .models import BranchReport, UnitReport
        from .services import find_missing_reports

        scoping.register(
            UnitReport, unit_field="unit", view_perm=Perm.REPORTING_VIEW, url_arg="report"
        )
        scoping.register(BranchReport, unit_field="branch", view_perm=Perm.REPORTING_VIEW)
        jobs.register("reporting.missing_reports", find_missing_reports)
