from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreeningConfig(AppConfig):
    """Carpet-style screening (摸排). Risk areas are national data: not scoped by org unit."""

    name = "fangkong.screening"
    label = "screening"
    verbose_name = _("Screening")

    def ready(self) -> None:
        from fangkong.core import scoping
        from fangkong.core.permissions import Perm

        from .models import Campaign, ContactLink, HouseholdVisit, Screening

        scoping.register(Campaign, unit_field="unit", view_perm=Perm.SCREENING_VIEW, overlap=True)
        scoping.register(Screening, unit_field="grid", view_perm=Perm.SCREENING_VIEW)
        scoping.register(HouseholdVisit, unit_field="grid", view_perm=Perm.SCREENING_VIEW)
        scoping.register(ContactLink, unit_field="person__grid", view_perm=Perm.SCREENING_VIEW)
