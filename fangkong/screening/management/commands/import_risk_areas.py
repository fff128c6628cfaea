"""``manage.py import_risk_areas FILE``: import a list of risk areas (.xlsx or .csv)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from fangkong.screening import imports


class Command(BaseCommand):
    help = (
        "Import risk-area periods from a list (.xlsx or .csv, as the import template: region "
        "code, risk level, from, until, note). All or nothing: with any problem nothing is "
        "written, every problem is printed with its row and column, and the exit status is 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The list: an .xlsx workbook or a .csv file.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check the file and print the report; write nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        report = imports.import_risk_areas(actor=None, source=path, dry_run=options["dry_run"])
        for problem in report.problems:
            self.stdout.write(self.style.ERROR(imports.describe_problem(problem)))
        if not report.ok:
            raise CommandError(
                _("%(count)d problems: nothing was imported. Correct the file and run again.")
                % {"count": len(report.problems)},
                returncode=1,
            )
        self.stdout.write(report.summary())
        if options["dry_run"]:
            self.stdout.write(_("Dry run: nothing was written."))
        else:
            self.stdout.write(self.style.SUCCESS(_("Imported.")))
