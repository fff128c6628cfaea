"""``python manage.py api_token USERNAME [--name NAME] [--revoke-all]``.

Without ``--revoke-all``: issues a new bearer token for the user and prints it on standard
output, alone on its line (so ``TOKEN=$(python manage.py api_token head1)`` works). The key is
shown this once; only its hash is stored. A note for the operator goes to standard error.

With ``--revoke-all``: revokes every token the user holds and issues none (for a lost token or
a user who leaves). Run the command again without it to issue a new one.

An unknown or inactive user is an error (exit status 1) and changes nothing.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fangkong.org import services
from fangkong.org.models import ApiToken, User


class Command(BaseCommand):
    help = "Issue a REST API bearer token for a user and print it (or revoke all their tokens)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username", help="The user the token acts as.")
        parser.add_argument(
            "--name", default="", help="What the token is for, e.g. 'daily report script'."
        )
        parser.add_argument(
            "--revoke-all",
            action="store_true",
            help="Revoke every token of the user instead of issuing one.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(
                f"No user named {username!r}. Check the spelling; user names are case-sensitive."
            ) from None
        if options["revoke_all"]:
            tokens = list(ApiToken.objects.filter(user=user, revoked_at__isnull=True))
            for token in tokens:
                services.revoke_api_token(token=token)
            self.stdout.write(f"Revoked {len(tokens)} token(s) of {user.username}.")
            return
        if not user.is_active:
            raise CommandError(
                f"User {username!r} is inactive; a token would not work. Reactivate the user first."
            )
        token, key = services.issue_api_token(user=user, name=options["name"])
        self.stdout.write(key)
        self.stderr.write(
            f"Token {token.prefix}… issued for {user.username}. It is shown only once: "
            "store it now. Use it as 'Authorization: Bearer <token>'."
        )
