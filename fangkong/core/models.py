"""Shared records: who saw or exported full personal numbers."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SensitiveAccess(models.Model):
    """A deliberate view or export of unmasked personal data (audit trail, PIPL)."""

    class Action(models.TextChoices):
        REVEAL = "reveal", _("Showed a full value")
        EXPORT = "export", _("Exported unmasked data")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    object_type = models.CharField(_("record type"), max_length=40)
    object_id = models.BigIntegerField(_("record"), null=True)
    detail = models.JSONField(_("details"), default=dict)

    class Meta:
        verbose_name = _("sensitive data access")
        verbose_name_plural = _("sensitive data accesses")
        indexes: ClassVar = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.action} {self.object_type}#{self.object_id}"


class JobRun(models.Model):
    """When a scheduled job (see :mod:`fangkong.core.jobs`) last completed: the next run
    catches up from there, so downtime is made good and nothing is done twice."""

    name = models.CharField(_("job"), max_length=60, primary_key=True)
    last_started_at = models.DateTimeField(_("last started"), null=True, blank=True)
    last_completed_at = models.DateTimeField(_("last completed"), null=True, blank=True)
    # The time the last completed run covered up to ("now" when it started).
    covered_until = models.DateTimeField(_("covered until"), null=True, blank=True)
    last_result = models.IntegerField(_("last result"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("scheduled job run")
        verbose_name_plural = _("scheduled job runs")

    def __str__(self) -> str:
        return self.name
