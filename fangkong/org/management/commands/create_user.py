"""``manage.py create_user``: add a login with one role, through the same service as the UI."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from fangkong.core.permissions import Role
from fangkong.org import services
from fangkong.org.models import OrgUnit

# The service names fields; the command line has arguments.
_OPTION_OF = {"org_unit": "--scope", "role": "--role", "full_name": "--full-name"}


class Command(BaseCommand):
    help = (
        "Create a user with one role over an org unit's subtree. Asks for the password twice "
        "unless --password-file is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--role",
            required=True,
            help="One of: " + ", ".join(Role.values) + ".",
        )
        parser.add_argument(
            "--scope",
            metavar="ORG_CODE",
            default="",
            help="Code of the org unit the role applies to, e.g. LZ-01. Not for admin.",
        )
        parser.add_argument(
            "--password-file",
            metavar="FILE",
            help="Read the password from the first line of FILE ('-' for standard input).",
        )
        parser.add_argument("--full-name", default="", help="The person's name, e.g. 王芳.")

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"].strip()
        role: str = options["role"].strip()
        org_unit = self._org_unit(options["scope"].strip(), role)
        password = self._password(options["password_file"])
        try:
            user = services.create_user(
                username=username,
                password=password,
                role=role,
                org_unit=org_unit,
                full_name=options["full_name"].strip(),
            )
        except ValidationError as error:
            lines = [
                f"  {_OPTION_OF.get(name, name)}: {message}"
                for name, messages in error.message_dict.items()
                for message in messages
            ]
            raise CommandError(_("The user was not created:") + "\n" + "\n".join(lines)) from None
        where = f"{org_unit.name} ({org_unit.code})" if org_unit else _("everything")
        self.stdout.write(
            self.style.SUCCESS(
                _("Created user %(username)s: %(role)s, scope %(scope)s.")
                % {"username": user.username, "role": Role(role).label, "scope": where}
            )
        )

    def _org_unit(self, code: str, role: str) -> OrgUnit | None:
        """The unit named by ``--scope``, or None (only a system administrator has none)."""
        if not code:
            return None
        if role == Role.ADMIN:
            raise CommandError(
                _("A system administrator's scope is the whole organisation: leave out --scope.")
            )
        unit = OrgUnit.objects.filter(code=code.upper(), is_active=True).first()
        if unit is None:
            raise CommandError(
                _("No active org unit has the code %(code)s. Check the code, e.g. LZ-01-03.")
                % {"code": code}
            )
        return unit

    def _password(self, path: str | None) -> str:
        """The password from the file (its first line), or asked twice at the terminal."""
        if path:
            try:
                text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
            except OSError as error:
                raise CommandError(
                    _("Cannot read the password file: %(error)s") % {"error": error.strerror}
                ) from None
            lines = text.splitlines()
            password = lines[0] if lines else ""
        else:
            password = getpass.getpass(_("Password: "))
            if password != getpass.getpass(_("Password (again): ")):
                raise CommandError(_("The two passwords differ; nothing was created."))
        if not password:
            raise CommandError(_("The password is empty; nothing was created."))
        return password
