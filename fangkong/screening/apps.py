from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreeningConfig(AppConfig):
    """Carpet-style screening (摸排). Risk areas are national data: not scoped by org unit."""

    name = "fangkong.screening"
    label = "screening"
    verbose_name = _("Screening")
