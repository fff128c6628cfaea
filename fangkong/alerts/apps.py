from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    """Alerts: the one inbox every workflow raises into (observation now; checkpoints, the
    duty roster and the daily report later), with acknowledgement, resolution and escalation."""

    name = "fangkong.alerts"
    label = "alerts"
    verbose_name = _("Alerts")

    def ready(self) -> None:
        from fangkong.core import jobs, scoping
        from fangkong.core.permissions import Perm

        from .models import Alert
        from .services import escalate_due

        scoping.register(Alert, unit_field="unit", view_perm=Perm.ALERTS_VIEW)
        jobs.register("alerts.escalate", escalate_due, order=900)
