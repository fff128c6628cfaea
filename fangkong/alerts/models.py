"""Alerts: something someone must handle (a fever, a missed check, a missed visit, …)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords


class AlertKind(models.TextChoices):
    """What an alert is about. Later workflows add theirs here (one inbox for all)."""

    FEVER = "fever", _("Fever")
    SYMPTOMS = "symptoms", _("Symptoms")
    MISSED_CHECK = "missed_check", _("Missed temperature check")
    MISSED_VISIT = "missed_visit", _("Missed follow-up visit")
    UNANSWERED_NEED = "unanswered_need", _("Unanswered need")
    MISSING_REPORT = "missing_report", _("Missing daily report")
    ENTRY_FEVER = "entry_fever", _("Fever at a checkpoint")
    ENTRY_RISK_AREA = "entry_risk_area", _("Arrival from a risk area at a checkpoint")
    DUTY_GAP = "duty_gap", _("Uncovered duty shift")


class AlertLevel(models.IntegerChoices):
    """Who the alert is with: first the responsible people of the grid, then escalated."""

    GRID = 0, _("Responsible people")
    UNIT = 1, _("Escalated to the unit head")
    OFFICE = 2, _("Escalated to the office")


class Alert(models.Model):
    """One alert. ``key`` names what it is about (``missed_check:12:2020-02-03:morning``):
    raising the same key again finds the same alert, so a job that runs twice, or late,
    raises nothing twice."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("alert", "Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")

    kind = models.CharField(_("kind"), max_length=20, choices=AlertKind.choices)
    key = models.CharField(_("key"), max_length=120, unique=True, editable=False)
    unit = models.ForeignKey(
        "org.OrgUnit",
        verbose_name=_("org unit"),
        on_delete=models.PROTECT,
        related_name="alerts",
        help_text=_("Where the alert belongs (the person's grid): who sees it."),
    )
    person = models.ForeignKey(
        "org.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alerts",
    )
    # The record the alert is about, named without a foreign key (any app may raise alerts).
    object_type = models.CharField(_("record type"), max_length=40, blank=True)
    object_id = models.BigIntegerField(_("record"), null=True, blank=True)
    url = models.CharField(_("link"), max_length=200, blank=True)
    summary = models.CharField(_("summary"), max_length=300)
    data = models.JSONField(_("details"), default=dict, blank=True)
    raised_at = models.DateTimeField(_("raised"))
    level = models.PositiveSmallIntegerField(
        _("level"), choices=AlertLevel.choices, default=AlertLevel.GRID
    )
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        indexes: ClassVar = [
            models.Index(fields=["unit", "status", "-raised_at"]),
            models.Index(fields=["-raised_at", "-id"]),
            models.Index(fields=["object_type", "object_id"]),
            models.Index(
                fields=["raised_at"],
                condition=Q(status="open"),
                name="alert_open_raised",
            ),
            # The alerts still to handle (the home page's counts): a few among many handled.
            models.Index(
                fields=["unit", "status", "level"],
                condition=~Q(status="resolved"),
                name="alert_unresolved_unit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.summary}"

    def get_absolute_url(self) -> str:
        return reverse("alerts:detail", kwargs={"alert_id": self.pk})

    @property
    def is_handled(self) -> bool:
        return self.status != self.Status.OPEN


class AlertRules(models.Model):
    """When an alert nobody has acknowledged goes up a level: one row (pk 1), set by the
    office, kept in the audit trail."""

    SINGLETON_PK = 1

    escalate_to_unit_minutes = models.PositiveIntegerField(
        _("escalate to the unit head after (minutes)"),
        default=60,
        help_text=_("An alert nobody has acknowledged this long goes to the unit head."),
    )
    escalate_to_office_minutes = models.PositiveIntegerField(
        _("escalate to the office after (minutes)"),
        default=240,
        help_text=_("An alert nobody has acknowledged this long goes to the office."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("alert rules")
        verbose_name_plural = _("alert rules")

    def __str__(self) -> str:
        return str(_("Alert rules"))
