"""``python manage.py export_people --output FILE [--scope ORG_CODE] [--unmasked]``.

The operator's export of the person ledger (人员台账) as ``.xlsx``: every active person of the
organisation, or of one org unit's subtree with ``--scope``. ID and phone numbers are masked
unless ``--unmasked``, which is recorded in the audit trail (no user; ``via: cli``). The file
is written next to FILE and renamed into place at the end, so a failed export leaves no
partial file. Prints the row count and the file; an unknown org unit code is an error (exit
status 1) and writes nothing.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from fangkong.org import exports
from fangkong.org.models import OrgUnit
from fangkong.org.selectors import PersonFilters


class Command(BaseCommand):
    help = (
        "Export the person ledger (all active persons, or one org unit's subtree) as an "
        ".xlsx file, with masked ID and phone numbers unless --unmasked (recorded)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", required=True, help="The .xlsx file to write.")
        parser.add_argument(
            "--scope",
            metavar="ORG_CODE",
            help="Only the persons of this org unit's subtree, e.g. LZ-01 (default: everyone).",
        )
        parser.add_argument(
            "--unmasked",
            action="store_true",
            help="Full ID and phone numbers. Recorded in the audit trail.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        output = Path(options["output"])
        unit = None
        if options["scope"]:
            code = options["scope"].strip().upper()
            unit = OrgUnit.objects.filter(code=code).first()
            if unit is None:
                raise CommandError(
                    _("No org unit has the code %(code)s. Check it on the unit's page, e.g. LZ-01.")
                    % {"code": code}
                )
        if not output.parent.is_dir():
            raise CommandError(
                _("The folder %(folder)s does not exist: create it or choose another --output.")
                % {"folder": output.parent}
            )
        descriptor, partial = tempfile.mkstemp(
            prefix=f".{output.name}.", suffix=".partial", dir=output.parent
        )
        os.close(descriptor)
        try:
            rows = exports.export_person_ledger(
                partial,
                user=None,
                filters=PersonFilters(unit=unit),
                unmasked=options["unmasked"],
                via="cli",
            )
            os.replace(partial, output)
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
        if options["unmasked"]:
            message = _(
                "Exported %(rows)s persons with full ID and phone numbers to %(file)s "
                "(recorded in the audit trail)."
            )
        else:
            message = _("Exported %(rows)s persons to %(file)s (ID and phone numbers masked).")
        self.stdout.write(message % {"rows": f"{rows:,}", "file": output})
