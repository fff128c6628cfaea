"""The daily zero report (每日零报告) and the branch report (统一信息报送): indicators as data,
the deadline and rules, unit reports with every submitted version and its values, and the
leader's approval of the branch report."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Indicator(models.Model):
    """One line of the daily report: a count or a text, in the office's order, optionally
    pre-filled from the register by an auto-fill rule of :mod:`fangkong.reporting.prefill`.

    Indicators are added and retired as data; a retired one is never deleted, so the reports
    filed with it keep it (their values point at this row)."""

    class Kind(models.TextChoices):
        COUNT = "count", _("Count")
        TEXT = "text", _("Text")

    code = models.CharField(
        _("code"),
        max_length=40,
        unique=True,
        help_text=_("Stable code for the API and the upward format, e.g. fevers."),
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=5, choices=Kind.choices, default=Kind.COUNT)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    rule = models.CharField(
        _("auto-fill rule"),
        max_length=40,
        blank=True,
        help_text=_("Pre-filled from the register by this rule; empty: filled in by hand."),
    )
    is_abnormal = models.BooleanField(
        _("abnormal when not zero"),
        default=False,
        help_text=_("A number above zero means there is something to report (a fever, a case)."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("report indicator")
        verbose_name_plural = _("report indicators")
        ordering = ("order", "pk")

    def __str__(self) -> str:
        return self.name

    @property
    def is_count(self) -> bool:
        return self.kind == self.Kind.COUNT


class ReportingRules(models.Model):
    """The deadline and the rules of the daily report: one row (pk 1), set by the office,
    kept in the audit trail."""

    SINGLETON_PK = 1

    deadline = models.TimeField(
        _("deadline"),
        default=dt.time(13, 0),
        help_text=_("Each day's report is due by this time (Asia/Shanghai); later is late."),
    )
    grid_reports = models.BooleanField(
        _("grid sub-reports"),
        default=False,
        help_text=_(
            "Grids file sub-reports to their unit; the unit's figures then start from them."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("reporting rules")
        verbose_name_plural = _("reporting rules")

    def __str__(self) -> str:
        return str(_("Reporting rules"))


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned")
    APPROVED = "approved", _("Approved")


class UnitReport(models.Model):
    """The daily report of one unit (or, with grid sub-reports on, one grid) for one day.

    ``first_submitted_at`` decides timeliness (``late``: after the deadline of the day); a
    correction after a return does not make an on-time report late. ``current`` is the latest
    submitted version: what the office reviews and the branch report sums."""

    unit = models.ForeignKey(
        "org.OrgUnit",
        verbose_name=_("org unit"),
        on_delete=models.PROTECT,
        related_name="daily_reports",
    )
    day = models.DateField(_("date"))
    status = models.CharField(
        _("status"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.DRAFT
    )
    current = models.ForeignKey(
        "ReportVersion",
        verbose_name=_("current version"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    first_submitted_at = models.DateTimeField(_("first submitted"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    late = models.BooleanField(_("late"), default=False)
    nothing_to_report = models.BooleanField(_("nothing to report"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    filled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("filled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_comment = models.TextField(_("review comment"), blank=True)
    created_at = models.DateTimeField(_("created"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("unit daily report")
        verbose_name_plural = _("unit daily reports")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["unit", "day"], name="one_report_per_unit_and_day")
        ]
        indexes: ClassVar = [
            # A day's reports of every unit (the branch report, the completeness matrix).
            models.Index(fields=["day", "unit"]),
            models.Index(fields=["-day", "-id"]),
            models.Index(fields=["status", "-day"]),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.day:%Y-%m-%d} {self.status}"

    @property
    def is_submitted(self) -> bool:
        return self.first_submitted_at is not None


class ReportVersion(models.Model):
    """One submission of a unit report (numbered from 1), kept for ever: the values with the
    register's at filing, the abnormal cases, who and when, and how the office reviewed it.
    A version not yet submitted (``submitted_at`` empty) is the unit's draft; there is at
    most one, numbered after the last submission.

    ``snapshot`` keeps the values with their indicators' codes and names as filed, so that the
    difference between two versions reads the same after an indicator is renamed or retired."""

    report = models.ForeignKey(
        UnitReport, verbose_name=_("report"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    nothing_to_report = models.BooleanField(_("nothing to report"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    # [{"code", "name", "kind", "value", "in_register", "reason"}], in the indicators' order.
    snapshot = models.JSONField(_("values"), default=list, blank=True)
    # [{"person_id", "name", "grid_id", "temperature", "symptoms", "what", "action", "open"}]
    cases = models.JSONField(_("abnormal cases"), default=list, blank=True)
    review_status = models.CharField(
        _("review"), max_length=10, choices=ReportStatus.choices, blank=True
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_comment = models.TextField(_("review comment"), blank=True)

    class Meta:
        verbose_name = _("report version")
        verbose_name_plural = _("report versions")
        ordering = ("report", "number")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["report", "number"], name="report_version_unique"),
            models.UniqueConstraint(
                fields=["report"], condition=Q(submitted_at__isnull=True), name="one_draft"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.report_id} v{self.number}"

    @property
    def is_draft(self) -> bool:
        return self.submitted_at is None


class ReportValue(models.Model):
    """The value of one indicator in one version: a number or a text, the register's value
    at filing (for a count with an auto-fill rule) and why they differ."""

    version = models.ForeignKey(
        ReportVersion, verbose_name=_("version"), on_delete=models.CASCADE, related_name="values"
    )
    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicator"), on_delete=models.PROTECT, related_name="+"
    )
    number = models.PositiveIntegerField(_("number"), null=True, blank=True)
    text = models.TextField(_("text"), blank=True)
    register = models.PositiveIntegerField(_("register"), null=True, blank=True)
    reason = models.CharField(_("reason for the difference"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("report value")
        verbose_name_plural = _("report values")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["version", "indicator"], name="one_value_per_line")
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id}={self.number if self.number is not None else self.text}"

    @property
    def differs(self) -> bool:
        return (
            self.register is not None and self.number is not None and self.number != self.register
        )


class BranchReport(models.Model):
    """The day's branch report as approved by the leader or a deputy: from then on it counts
    as sent (上报). ``snapshot`` keeps the aggregate as approved; approving again after a
    change replaces it (the audit trail keeps each approval)."""

    branch = models.ForeignKey(
        "org.OrgUnit",
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        related_name="branch_reports",
    )
    day = models.DateField(_("date"))
    approved_at = models.DateTimeField(_("approved"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    snapshot = models.JSONField(_("report as approved"), default=dict, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("branch daily report")
        verbose_name_plural = _("branch daily reports")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["branch", "day"], name="one_branch_report_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.branch_id} {self.day:%Y-%m-%d}"
