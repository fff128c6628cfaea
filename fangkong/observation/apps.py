from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ObservationConfig(AppConfig):
    """Key-group control (重点群体管控): observation, checks, visits, needs, care."""

    name = "fangkong.observation"
    label = "observation"
    verbose_name = _("Observation")

    def ready(self) -> None:
        from fangkong.core import jobs, scoping
        from fangkong.core.permissions import Perm

        from . import models, services

        through_person = "episode__person__grid"
        scoping.register(
            models.ObservationEpisode,
            unit_field="person__grid",
            view_perm=Perm.OBSERVATION_VIEW,
            url_arg="episode",
        )
        scoping.register(
            models.TemperatureReading, unit_field=through_person, view_perm=Perm.OBSERVATION_VIEW
        )
        scoping.register(
            models.FollowUpVisit, unit_field=through_person, view_perm=Perm.OBSERVATION_VIEW
        )
        scoping.register(models.Need, unit_field=through_person, view_perm=Perm.OBSERVATION_VIEW)
        scoping.register(
            models.SelfReportLink, unit_field=through_person, view_perm=Perm.OBSERVATION_VIEW
        )
        scoping.register(
            models.EpisodeResponsible, unit_field=through_person, view_perm=Perm.OBSERVATION_VIEW
        )
        scoping.register(
            models.CareVisit, unit_field="household__grid", view_perm=Perm.OBSERVATION_VIEW
        )
        jobs.register("observation.missed_checks", services.find_missed_checks)
        jobs.register("observation.missed_visits", services.find_missed_visits)
        jobs.register("observation.unanswered_needs", services.find_unanswered_needs)
