"""Every write of accountability: recording lapses (idempotent by key)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils import timezone

from fangkong.org.models import OrgUnit, User

from .models import Lapse


def record_lapse(
    *,
    kind: str,
    key: str,
    unit: OrgUnit,
    day: dt.date,
    responsible: User | None = None,
    object_type: str = "",
    object_id: int | None = None,
    note: str = "",
    at: dt.datetime | None = None,
) -> tuple[Lapse, bool]:
    """The lapse for ``key``, recorded now unless it already exists (then it is returned as
    it is). Returns (lapse, created)."""
    existing = Lapse.objects.filter(key=key).first()
    if existing is not None:
        return existing, False
    lapse = Lapse(
        kind=kind,
        key=key,
        unit=unit,
        day=day,
        responsible=responsible,
        object_type=object_type,
        object_id=object_id,
        note=note[:300],
        created_at=at or timezone.now(),
    )
    try:
        with transaction.atomic():
            lapse.save()
    except IntegrityError:  # recorded at the same moment by another process
        return Lapse.objects.get(key=key), False
    return lapse, True


def record_lapses(lapses: Sequence[Lapse]) -> list[Lapse]:
    """Record many unsaved lapses at once (a scheduled job), skipping the keys that exist
    already or are recorded meanwhile. Returns the lapses that were new."""
    if not lapses:
        return []
    existing = set(
        Lapse.objects.filter(key__in=[lapse.key for lapse in lapses]).values_list("key", flat=True)
    )
    fresh: dict[str, Lapse] = {}
    for lapse in lapses:
        if lapse.key not in existing and lapse.key not in fresh:
            lapse.note = lapse.note[:300]
            fresh[lapse.key] = lapse
    Lapse.objects.bulk_create(list(fresh.values()), ignore_conflicts=True, batch_size=500)
    return list(fresh.values())
