from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "fangkong.org"
    label = "org"
    verbose_name = _("Organisation and people")

    def ready(self) -> None:
        from fangkong.core import scoping
        from fangkong.core.permissions import Perm

        from .models import Household, OrgUnit, Person, TimelineEvent

        scoping.register(OrgUnit, unit_field="", view_perm=Perm.REGISTER_VIEW)
        scoping.register(Household, unit_field="grid", view_perm=Perm.REGISTER_VIEW)
        scoping.register(Person, unit_field="grid", view_perm=Perm.REGISTER_VIEW)
        scoping.register(TimelineEvent, unit_field="person__grid", view_perm=Perm.REGISTER_VIEW)
