from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommandConfig(AppConfig):
    """Command structure and accountability (健全防控体系, 责任追究制度). For now the lapses
    recorded against units (a missing daily report); the command issue adds the response
    level, documents, meetings and action items."""

    name = "fangkong.command"
    label = "command"
    verbose_name = _("Command and accountability")

    def ready(self) -> None:
        from fangkong.core import scoping
        from fangkong.core.permissions import Perm

        from .models import Lapse

        # Read with the daily reports for now (a missing report is the only lapse yet); the
        # accountability register will bring its own permission.
        scoping.register(Lapse, unit_field="unit", view_perm=Perm.REPORTING_VIEW)
