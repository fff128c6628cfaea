"""Accountability (责任追究制度): lapses recorded against a unit and its responsible person."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Lapse(models.Model):
    """One lapse (a missed report, later an overdue task or a missed check), recorded once:
    ``key`` names what it is about (``missing_report:12:2020-02-03``), so a job that runs
    twice, or late, records nothing twice. Lapses are facts: never changed, never deleted."""

    class Kind(models.TextChoices):
        MISSING_REPORT = "missing_report", _("Missing daily report")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    key = models.CharField(_("key"), max_length=120, unique=True, editable=False)
    unit = models.ForeignKey(
        "org.OrgUnit",
        verbose_name=_("org unit"),
        on_delete=models.PROTECT,
        related_name="lapses",
        help_text=_("The unit the lapse is recorded against."),
    )
    day = models.DateField(_("date"))
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lapses",
    )
    # The record the lapse is about, named without a foreign key (any app may record lapses).
    object_type = models.CharField(_("record type"), max_length=40, blank=True)
    object_id = models.BigIntegerField(_("record"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("recorded"))

    class Meta:
        verbose_name = _("lapse")
        verbose_name_plural = _("lapses")
        indexes: ClassVar = [
            models.Index(fields=["unit", "-day"]),
            models.Index(fields=["-day", "-id"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.unit_id} {self.day:%Y-%m-%d}"
