from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CheckpointsConfig(AppConfig):
    """The standing systems (制度): checkpoints and their entry log, the 24-hour duty roster,
    the party-member pioneer posts, cleaning and disinfection, and publicity."""

    name = "fangkong.checkpoints"
    label = "checkpoints"
    verbose_name = _("Checkpoints and duty")

    def ready(self) -> None:
        from fangkong.core import scoping
        from fangkong.core.permissions import Perm

        from . import models

        scoping.register(models.Checkpoint, unit_field="unit", view_perm=Perm.CHECKPOINTS_VIEW)
        scoping.register(models.Entry, unit_field="unit", view_perm=Perm.CHECKPOINTS_VIEW)
        scoping.register(
            models.DutyPost, unit_field="unit", view_perm=Perm.DUTY_VIEW, url_arg="post"
        )
        scoping.register(models.Shift, unit_field="post__unit", view_perm=Perm.DUTY_VIEW)
        scoping.register(
            models.PioneerPost, unit_field="unit", view_perm=Perm.DUTY_VIEW, url_arg="pioneer"
        )
        scoping.register(
            models.DisinfectionPlace, unit_field="unit", view_perm=Perm.DUTY_VIEW, url_arg="place"
        )
        scoping.register(models.Disinfection, unit_field="place__unit", view_perm=Perm.DUTY_VIEW)
        scoping.register(
            models.PublicityRecord, unit_field="unit", view_perm=Perm.DUTY_VIEW, url_arg="publicity"
        )

        from fangkong.core import jobs

        from .services.duty import find_uncovered_shifts

        jobs.register("duty.uncovered_shifts", find_uncovered_shifts)
