"""Regions (GB/T 2260) and the risk level each held, period by period."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords


class Region(models.Model):
    """A province, prefecture or county by its 6-digit GB/T 2260 code (historic ones too)."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        PREFECTURE = "prefecture", _("Prefecture")
        COUNTY = "county", _("County")

    code = models.CharField(_("region code"), max_length=6, primary_key=True)
    name = models.CharField(pgettext_lazy("region", "name"), max_length=50, db_index=True)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    valid_from_year = models.PositiveSmallIntegerField(_("valid from (year)"), null=True)
    valid_to_year = models.PositiveSmallIntegerField(_("valid until (year)"), null=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def full_name(self) -> str:
        """Province, prefecture and county names, e.g. "甘肃省 张掖市 临泽县" (load the
        parents with ``select_related("parent__parent")`` when listing)."""
        names = [self.name]
        parent = self.parent
        while parent is not None:
            names.insert(0, parent.name)
            parent = parent.parent
        return " ".join(names)


class RiskLevel(models.TextChoices):
    HIGH = "high", _("High risk")
    MEDIUM = "medium", _("Medium risk")
    LOW = "low", _("Low risk")


# Most severe first: where periods of a region and of its parents meet, the highest wins.
SEVERITY: dict[str, int] = {RiskLevel.HIGH: 3, RiskLevel.MEDIUM: 2, RiskLevel.LOW: 1}


class RiskAreaPeriod(models.Model):
    """A region at one risk level from ``start`` to ``end`` (both days included; no end while
    it holds). The periods of one region never overlap (see ``services.set_risk_level``)."""

    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="risk_periods"
    )
    level = models.CharField(_("risk level"), max_length=6, choices=RiskLevel.choices)
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("risk area period")
        verbose_name_plural = _("risk area periods")
        ordering = ["-start", "region_id"]
        indexes: ClassVar = [models.Index(fields=["region", "start"])]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                name="risk_period_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.level} {self.start}–{self.end or ''}"

    def get_absolute_url(self) -> str:
        return f"{reverse('screening:risk_area_list')}?{urlencode({'q': self.region_id})}"
