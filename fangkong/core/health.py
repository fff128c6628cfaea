"""Health observations shared by screening, observation and checkpoints: the symptom list and
the body temperature accepted from anyone who types one in."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# A reading outside this range is a typing mistake (or a broken thermometer), never a person.
TEMPERATURE_MIN = Decimal("34.0")
TEMPERATURE_MAX = Decimal("43.0")


class Symptom(models.TextChoices):
    """The symptoms asked about at the door, at the gate and twice a day in observation."""

    FEVER = "fever", gettext_lazy("Fever")
    COUGH = "cough", gettext_lazy("Dry cough")
    FATIGUE = "fatigue", gettext_lazy("Fatigue")
    SORE_THROAT = "sore_throat", gettext_lazy("Sore throat")
    SHORT_BREATH = "short_breath", gettext_lazy("Shortness of breath")
    MUSCLE_ACHE = "muscle_ache", gettext_lazy("Muscle ache")
    RUNNY_NOSE = "runny_nose", gettext_lazy("Stuffy or runny nose")
    DIARRHOEA = "diarrhoea", gettext_lazy("Diarrhoea")
    TASTE_SMELL = "taste_smell", gettext_lazy("Loss of taste or smell")
    CONJUNCTIVITIS = "conjunctivitis", gettext_lazy("Conjunctivitis")


def clean_temperature(value: Any) -> Decimal | None:
    """A body temperature in °C with one decimal, or None when none was taken.

    Raises ValidationError naming the accepted range for anything else."""
    if value is None or value == "":
        return None
    try:
        reading = Decimal(str(value).strip().replace("，", ".").replace(",", "."))
    except InvalidOperation:
        raise ValidationError(
            _("Enter the temperature as a number in °C, e.g. 36.5."), code="invalid"
        ) from None
    if not reading.is_finite() or not TEMPERATURE_MIN <= reading <= TEMPERATURE_MAX:
        raise ValidationError(
            _(
                "%(value)s °C is not a body temperature: enter a reading between %(min)s and "
                "%(max)s °C, e.g. 36.5."
            )
            % {"value": value, "min": TEMPERATURE_MIN, "max": TEMPERATURE_MAX},
            code="out_of_range",
        )
    return reading.quantize(Decimal("0.1"))


def clean_symptoms(values: Any) -> list[str]:
    """The symptom codes, known ones only, without repeats, in the list's order."""
    chosen = set(values or ())
    unknown = chosen - set(Symptom.values)
    if unknown:
        raise ValidationError(
            _("Unknown symptom %(code)s: choose from the list.")
            % {"code": ", ".join(sorted(unknown))},
            code="invalid_choice",
        )
    return [code for code in Symptom.values if code in chosen]


def symptom_labels(codes: list[str]) -> str:
    labels = dict(Symptom.choices)
    return "、".join(str(labels.get(code, code)) for code in codes)
