"""The standing systems (制度) of DOMAIN.md workflows 5 and 6.

- Checkpoints (检测点/卡口) and their entry log: every person and vehicle entering, with the
  temperature, the origin and the disinfection done.
- The 24-hour duty roster (24小时值班值守): posts, shifts with the staff and the leader on duty,
  and the swaps made.
- Party-member pioneer posts (党员先锋岗): duty, members and leader; shifts from the roster.
- Cleaning and disinfection (清洁消毒): places with a required frequency, and each disinfection.
- Publicity (宣传): notices, posters, broadcasts and meetings held.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

# ---------------------------------------------------------------------------------------------
# Checkpoints and the entry log


class Checkpoint(models.Model):
    """An entry checkpoint (检测点/卡口) of a unit (or of the whole branch), with the operators
    assigned to it."""

    name = models.CharField(pgettext_lazy("checkpoint", "name"), max_length=60)
    location = models.CharField(_("location"), max_length=200, blank=True)
    unit = models.ForeignKey(
        "org.OrgUnit",
        verbose_name=_("org unit"),
        on_delete=models.PROTECT,
        related_name="checkpoints",
        help_text=_("The unit the checkpoint belongs to: its staff and the office see its log."),
    )
    intake_grid = models.ForeignKey(
        "org.OrgUnit",
        verbose_name=_("grid for new arrivals"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": "grid"},
        help_text=_(
            "A flagged person who is not in the register is registered in this grid "
            "(by default the first grid of the unit)."
        ),
    )
    operators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operators"),
        blank=True,
        related_name="checkpoints",
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        ordering = ["unit_id", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("checkpoints:checkpoint_detail", kwargs={"checkpoint_id": self.pk})


class Direction(models.TextChoices):
    IN = "in", _("Entering")
    OUT = "out", _("Leaving")


class Entry(models.Model):
    """One passage through a checkpoint: a person on foot, or a vehicle with its occupants
    (each an :class:`EntryPerson` with a temperature). Flagged when someone has a fever or
    comes from a high- or medium-risk area; the flagged ones raise an alert and go on the
    screening workflow's new arrivals. Entries are facts: corrected only with the audit
    trail, never deleted."""

    checkpoint = models.ForeignKey(
        Checkpoint, verbose_name=_("checkpoint"), on_delete=models.PROTECT, related_name="entries"
    )
    # The checkpoint's unit when recorded: the log is scoped and listed without a join.
    unit = models.ForeignKey(
        "org.OrgUnit", verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("time"))
    day = models.DateField(_("date"), help_text=_("The day of the time, in Asia/Shanghai."))
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, default=Direction.IN
    )
    plate = models.CharField(
        _("plate number"),
        max_length=10,
        blank=True,
        help_text=_("Chinese plate, e.g. 甘G12345 or 甘GD12345 (new energy); empty on foot."),
    )
    vehicle_disinfected = models.BooleanField(_("vehicle disinfected"), null=True, blank=True)
    from_region = models.ForeignKey(
        "screening.Region",
        verbose_name=_("came from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The origin's risk level on the day of the entry ("" when none): kept as it was then.
    risk_level = models.CharField(_("risk level of origin"), max_length=6, blank=True)
    purpose = models.CharField(_("purpose"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    # What the log lists without reading the people: their names, how many, the highest
    # temperature, and the flags.
    names = models.CharField(_("people"), max_length=200, blank=True)
    people_count = models.PositiveSmallIntegerField(_("number of people"), default=1)
    max_temperature = models.DecimalField(
        _("highest temperature (°C)"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    has_fever = models.BooleanField(_("fever"), default=False)
    is_flagged = models.BooleanField(_("flagged"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Sent by the gate phone with the entry: the same key again is a retry, recorded once.
    idempotency_key = models.CharField(max_length=80, blank=True, editable=False)
    created_at = models.DateTimeField(_("recorded"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("entry")
        verbose_name_plural = _("entries")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="entry_unique_idempotency_key",
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["-at", "-id"]),
            models.Index(fields=["unit", "-at", "-id"]),
            models.Index(fields=["checkpoint", "day"]),
            models.Index(fields=["unit", "day"]),
            models.Index(
                fields=["unit", "-at"], condition=Q(is_flagged=True), name="entry_flagged_unit"
            ),
            # The log filtered by checkpoint, newest first; and by plate (exact or its start).
            models.Index(fields=["checkpoint", "-at", "-id"], name="entry_checkpoint_at"),
            models.Index(fields=["plate", "-at"], name="entry_plate_at"),
        ]

    def __str__(self) -> str:
        return f"{self.checkpoint_id} {self.at:%Y-%m-%d %H:%M} {self.names or self.plate}"

    def get_absolute_url(self) -> str:
        return reverse("checkpoints:entry_detail", kwargs={"entry_id": self.pk})


class EntryPerson(models.Model):
    """A person of an entry: found in the register, or typed in (an outsider; registered when
    flagged). The driver comes first."""

    entry = models.ForeignKey(
        Entry, verbose_name=_("entry"), on_delete=models.CASCADE, related_name="people"
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    person = models.ForeignKey(
        "org.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="checkpoint_entries",
    )
    name = models.CharField(_("name"), max_length=50)
    id_number = models.CharField(_("ID number"), max_length=18, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    temperature = models.DecimalField(
        _("temperature (°C)"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    symptoms = models.JSONField(_("symptoms"), default=list, blank=True)
    disinfected = models.BooleanField(_("disinfected"), null=True, blank=True)
    is_fever = models.BooleanField(_("fever"), default=False)
    is_flagged = models.BooleanField(_("flagged"), default=False)
    # The new-arrival registration (screening) made for a flagged person, if any.
    screening = models.ForeignKey(
        "screening.Screening",
        verbose_name=_("new-arrival record"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("person at the checkpoint")
        verbose_name_plural = _("people at the checkpoint")
        ordering = ["entry_id", "position"]
        indexes: ClassVar = [
            models.Index(fields=["entry", "position"]),
            models.Index(
                fields=["person"], condition=Q(person__isnull=False), name="entryperson_person"
            ),
        ]

    def __str__(self) -> str:
        return self.name


# ---------------------------------------------------------------------------------------------
# The duty roster


class DutyPost(models.Model):
    """A post staffed by shifts: the office, a checkpoint or a pioneer post. A post that must
    be staffed around the clock shows the gaps in its 24 hours."""

    class Kind(models.TextChoices):
        OFFICE = "office", _("Office (joint prevention office)")
        CHECKPOINT = "checkpoint", _("Checkpoint")
        PIONEER = "pioneer", _("Pioneer post")
        OTHER = "other", pgettext_lazy("post kind", "Other")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(pgettext_lazy("post", "name"), max_length=60)
    unit = models.ForeignKey(
        "org.OrgUnit", verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="posts"
    )
    checkpoint = models.OneToOneField(
        Checkpoint,
        verbose_name=_("checkpoint"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="post",
    )
    round_the_clock = models.BooleanField(
        _("staffed 24 hours"),
        default=True,
        help_text=_("Every hour of every day must be covered by a shift; gaps are shown."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("duty post")
        verbose_name_plural = _("duty posts")
        ordering = ["unit_id", "kind", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("checkpoints:post_week", kwargs={"post_id": self.pk})


class Shift(models.Model):
    """A shift of a post from ``start`` to ``end`` (it may cross midnight), with the staff on
    duty (:class:`ShiftMember`) and the leader on duty."""

    post = models.ForeignKey(
        DutyPost, verbose_name=_("post"), on_delete=models.PROTECT, related_name="shifts"
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("leader on duty"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    is_cancelled = models.BooleanField(_("cancelled"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["start", "id"]
        indexes: ClassVar = [
            models.Index(fields=["post", "start"]),
            models.Index(fields=["start", "end"]),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="shift_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.post_id} {self.start:%Y-%m-%d %H:%M}–{self.end:%H:%M}"


class ShiftMember(models.Model):
    """Someone on duty in a shift: a user, or a name for someone without an account."""

    shift = models.ForeignKey(
        Shift, verbose_name=_("shift"), on_delete=models.CASCADE, related_name="members"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="shift_memberships",
    )
    name = models.CharField(_("name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("staff on duty")
        verbose_name_plural = _("staff on duty")
        indexes: ClassVar = [models.Index(fields=["user", "shift"])]

    def __str__(self) -> str:
        return self.name


class ShiftSwap(models.Model):
    """A swap recorded on a shift: who handed it over to whom, why, and who agreed."""

    shift = models.ForeignKey(
        Shift, verbose_name=_("shift"), on_delete=models.CASCADE, related_name="swaps"
    )
    from_name = models.CharField(_("handed over by"), max_length=50)
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_name = models.CharField(_("taken over by"), max_length=50)
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded"))

    class Meta:
        verbose_name = _("shift swap")
        verbose_name_plural = _("shift swaps")
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_name} → {self.to_name}"


class DutyRules(models.Model):
    """When the roster warns: one row (pk 1), set by the office, kept in the audit trail."""

    SINGLETON_PK = 1

    alert_before_minutes = models.PositiveIntegerField(
        _("alert before an uncovered shift (minutes)"),
        default=120,
        help_text=_(
            "A gap in a 24-hour post, or a shift with nobody on it, this soon raises an alert."
        ),
    )
    gap_days_ahead = models.PositiveSmallIntegerField(
        _("show gaps this many days ahead"), default=14
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("duty rules")
        verbose_name_plural = _("duty rules")

    def __str__(self) -> str:
        return str(_("Duty rules"))


# ---------------------------------------------------------------------------------------------
# Pioneer posts


class PioneerPost(models.Model):
    """A party-member pioneer post (党员先锋岗): its duty, members and leader. Its shifts are
    those of its duty post in the roster."""

    name = models.CharField(pgettext_lazy("post", "name"), max_length=60)
    duty = models.TextField(_("duty"), help_text=_("What the post is responsible for."))
    unit = models.ForeignKey(
        "org.OrgUnit", verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="+"
    )
    post = models.OneToOneField(
        DutyPost,
        verbose_name=_("duty post"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="pioneer",
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("pioneer post")
        verbose_name_plural = _("pioneer posts")
        ordering = ["unit_id", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("checkpoints:pioneer_detail", kwargs={"pioneer_id": self.pk})


class PioneerMember(models.Model):
    """A member of a pioneer post: a party member from the register, or a user."""

    pioneer = models.ForeignKey(
        PioneerPost,
        verbose_name=_("pioneer post"),
        on_delete=models.CASCADE,
        related_name="members",
    )
    person = models.ForeignKey(
        "org.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    name = models.CharField(_("name"), max_length=50)
    is_leader = models.BooleanField(_("post leader"), default=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("pioneer post member")
        verbose_name_plural = _("pioneer post members")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["pioneer"], condition=Q(is_leader=True), name="pioneer_one_leader"
            )
        ]

    def __str__(self) -> str:
        return self.name


# ---------------------------------------------------------------------------------------------
# Cleaning and disinfection


class DisinfectionPlace(models.Model):
    """A place to be disinfected at a required frequency (e.g. twice a day): overdue when the
    last disinfection is older than 24 hours divided by the times a day."""

    name = models.CharField(pgettext_lazy("place", "name"), max_length=80)
    unit = models.ForeignKey(
        "org.OrgUnit", verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="+"
    )
    location = models.CharField(_("location"), max_length=200, blank=True)
    times_per_day = models.PositiveSmallIntegerField(_("times a day"), default=2)
    # The latest disinfection's time (kept by the service): the overdue list without a scan.
    last_done_at = models.DateTimeField(_("last disinfected"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"))
    history = HistoricalRecords(excluded_fields=["last_done_at"])

    class Meta:
        verbose_name = _("place to disinfect")
        verbose_name_plural = _("places to disinfect")
        ordering = ["unit_id", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("checkpoints:place_detail", kwargs={"place_id": self.pk})


class Disinfection(models.Model):
    """One disinfection done: when, with what, by whom."""

    place = models.ForeignKey(
        DisinfectionPlace,
        verbose_name=pgettext_lazy("disinfection", "place"),
        on_delete=models.PROTECT,
        related_name="disinfections",
    )
    done_at = models.DateTimeField(_("time"))
    agent = models.CharField(
        _("disinfectant"), max_length=80, help_text=_("E.g. 84 disinfectant 1:100, 75% alcohol.")
    )
    done_by = models.CharField(_("done by"), max_length=50)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("disinfection")
        verbose_name_plural = _("disinfections")
        ordering = ["-done_at", "-id"]
        indexes: ClassVar = [models.Index(fields=["place", "-done_at"])]

    def __str__(self) -> str:
        return f"{self.place_id} {self.done_at:%Y-%m-%d %H:%M}"


# ---------------------------------------------------------------------------------------------
# Publicity


class PublicityRecord(models.Model):
    """Publicity done (宣传): a notice, poster, broadcast, meeting, …: when, what, where, and
    how many people it reached."""

    class Kind(models.TextChoices):
        NOTICE = "notice", pgettext_lazy("publicity kind", "Notice")
        POSTER = "poster", _("Poster or banner")
        BROADCAST = "broadcast", _("Broadcast")
        MEETING = "meeting", _("Meeting")
        MESSAGE = "message", _("WeChat or text message")
        LEAFLET = "leaflet", _("Leaflet")
        OTHER = "other", pgettext_lazy("publicity kind", "Other")

    unit = models.ForeignKey(
        "org.OrgUnit", verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    content = models.TextField(_("content"))
    place = models.CharField(_("where"), max_length=200, blank=True)
    reach = models.PositiveIntegerField(
        _("people reached"), null=True, blank=True, help_text=_("About how many people.")
    )
    quantity = models.PositiveIntegerField(
        _("copies or times"),
        null=True,
        blank=True,
        help_text=_("Posters put up, broadcasts made, …"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("publicity record")
        verbose_name_plural = _("publicity records")
        ordering = ["-day", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["unit", "-day"]),
            models.Index(fields=["-day", "-id"]),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.get_kind_display()}"

    def get_absolute_url(self) -> str:
        return reverse("checkpoints:publicity_detail", kwargs={"publicity_id": self.pk})
