"""Password rule: at least N of the four character classes."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class CharacterClassValidator:
    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    @staticmethod
    def classes_in(password: str) -> int:
        return sum(
            (
                any(c.islower() for c in password),
                any(c.isupper() for c in password),
                any(c.isdigit() for c in password),
                any(not c.isalnum() for c in password),
            )
        )

    def validate(self, password: str, user: Any = None) -> None:
        if self.classes_in(password) < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_classes")

    def get_help_text(self) -> str:
        return _(
            "Use at least %(count)d of: lower-case letters, upper-case letters, digits, symbols."
        ) % {"count": self.min_classes}
