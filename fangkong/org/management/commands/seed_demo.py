"""``manage.py seed_demo``: load the demo branch, its register and one login per role."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.org import demo
from fangkong.org.models import OrgUnit


class Command(BaseCommand):
    help = (
        "Fill an empty database with demo data: the branch 亚盛股份临泽分公司 (LZ), 6 units, "
        "their grids, households and persons (4,000 by default), and one user per role. "
        "Prints the demo logins."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--persons",
            type=int,
            default=demo.DEFAULT_PERSONS,
            help="Persons in the register (default %(default)s); grids and households scale "
            "with it (about 100 persons a grid, 2.65 a household).",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (but print the demo logins) when the database already holds an "
            "organisation. For `make run`.",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=demo.DEFAULT_SEED,
            help="Random seed (default %(default)s): the same seed gives the same people.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["persons"] < 1:
            raise CommandError(_("--persons must be at least 1."))
        if options["if_empty"] and OrgUnit.objects.exists():
            self.stdout.write(
                _("The database already holds an organisation: demo data not loaded.")
            )
        else:
            self._seed(options["persons"], options["seed"], options["verbosity"])
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING(_("Demo logins")))
        self.stdout.write(demo.logins_table())

    def _seed(self, persons: int, seed: int, verbosity: int) -> None:
        def progress(message: str) -> None:
            if verbosity >= 1:
                self.stdout.write("  " + message)

        if verbosity >= 1:
            self.stdout.write(
                _("Loading demo data: %(persons)s persons (seed %(seed)d)…")
                % {"persons": f"{persons:,}", "seed": seed}
            )
        # The screening demo (a campaign under way) and the observation demo (key persons
        # under observation) go with the register: one transaction.
        from fangkong.checkpoints.demo_duty import seed_duty_demo
        from fangkong.checkpoints.demo_entries import seed_entries_demo
        from fangkong.checkpoints.demo_records import seed_records_demo
        from fangkong.core import jobs
        from fangkong.observation.demo import count_alerts, seed_observation_demo
        from fangkong.reporting.demo import seed_reporting_demo
        from fangkong.screening.demo import seed_screening_demo

        try:
            with transaction.atomic():
                summary = demo.seed_demo(persons=persons, seed=seed, progress=progress)
                screening = seed_screening_demo(seed=seed, progress=progress)
                # The daily reports are filed from what observation recorded; then the
                # scheduled jobs run once over all of it (missed checks, missing reports…).
                now = timezone.now()
                observation = seed_observation_demo(
                    seed=seed, progress=progress, now=now, run_jobs=False
                )
                # The standing systems' week (checkpoints, duty, disinfection, publicity)
                # before the reports, whose day's work is filled from it.
                today = timezone.localdate(now)
                standing = {
                    **seed_entries_demo(today=today, seed=seed, now=now),
                    **seed_duty_demo(today=today),
                    **seed_records_demo(today=today),
                }
                reporting = seed_reporting_demo(seed=seed, progress=progress, now=now)
                jobs.run_due(now)
                count_alerts(observation)
        except demo.DemoDataError as error:
            raise CommandError(str(error)) from None
        summary.seconds += screening.seconds + observation.seconds + reporting.seconds
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Demo data loaded in %(seconds).1f s: %(units)d units, %(grids)s grids, "
                    "%(households)s households, %(persons)s persons (%(without_id)s without an ID "
                    "number), %(users)d users."
                )
                % {
                    "seconds": summary.seconds,
                    "units": summary.units,
                    "grids": f"{summary.grids:,}",
                    "households": f"{summary.households:,}",
                    "persons": f"{summary.persons:,}",
                    "without_id": f"{summary.without_id:,}",
                    "users": summary.users,
                }
            )
        )
        if screening.campaign is not None and verbosity >= 1:
            # Not translated yet (the catalogue is updated with the screening pages).
            self.stdout.write(
                "Campaign {name}: {visited} of {households} households visited, {screened} "
                "persons screened, {key} key persons, {arrivals} new arrivals ({seconds:.1f} s).".format(
                    name=screening.campaign.name,
                    visited=f"{screening.households_visited:,}",
                    households=f"{screening.households:,}",
                    screened=f"{screening.persons_screened:,}",
                    key=f"{screening.key_persons:,}",
                    arrivals=f"{screening.arrivals:,}",
                    seconds=screening.seconds,
                )
            )
        if verbosity >= 1:
            self.stdout.write(
                _("Checkpoints and duty: %(made)s.")
                % {"made": ", ".join(f"{name} {count:,}" for name, count in standing.items())}
            )
        if observation.episodes and verbosity >= 1:
            # Not translated yet (the catalogue is updated with the observation pages).
            self.stdout.write(
                "Observation: {episodes} episodes ({active} running), {readings} temperature "
                "readings ({fevers} fevers), {visits} follow-up visits, {needs} needs, {care} care "
                "visits, {alerts} alerts ({open} open) ({seconds:.1f} s).".format(
                    episodes=observation.episodes,
                    active=observation.active,
                    readings=f"{observation.readings:,}",
                    fevers=observation.fevers,
                    visits=f"{observation.visits:,}",
                    needs=observation.needs,
                    care=observation.care_visits,
                    alerts=observation.alerts,
                    open=observation.open_alerts,
                    seconds=observation.seconds,
                )
            )
