"""``manage.py import_people FILE``: import a person roster (.xlsx or .csv) as the operator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from fangkong.org import imports
from fangkong.org.models import OrgUnit


class Command(BaseCommand):
    help = (
        "Import households and persons from a roster (.xlsx or .csv, as the import template). "
        "Prints what is created, updated and unchanged, then every problem as "
        "'sheet row column: value — message'. All or nothing: with any problem nothing is "
        "written and the exit status is 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The roster: an .xlsx workbook or a .csv file.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check the file and print the report; write nothing.",
        )
        parser.add_argument(
            "--scope",
            metavar="ORG_CODE",
            default="",
            help="Accept only rows in the grids of this org unit, e.g. LZ-01 (default: the "
            "whole organisation).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        scope = None
        if options["scope"]:
            code = options["scope"].strip().upper()
            scope = OrgUnit.objects.filter(code=code, is_active=True).first()
            if scope is None:
                raise CommandError(_("No active org unit has the code %(code)s.") % {"code": code})
        run = imports.preview if options["dry_run"] else imports.commit
        report = run(actor=None, source=path, scope=scope)
        for line in report.summary_lines():
            self.stdout.write(line)
        for warning in report.warnings:
            self.stdout.write(self.style.WARNING(_("Note: %(warning)s") % {"warning": warning}))
        for problem in report.problems:
            self.stdout.write(self.style.ERROR(str(problem)))
        if not report.ok:
            raise CommandError(
                _("%(count)d problems: nothing was imported. Correct the file and run again.")
                % {"count": len(report.problems)},
                returncode=1,
            )
        if options["dry_run"]:
            self.stdout.write(_("Dry run: nothing was written."))
        else:
            self.stdout.write(
                self.style.SUCCESS(_("Imported in %(seconds).1f s.") % {"seconds": report.seconds})
            )
