"""Key-group control (重点群体管控): observation episodes, their period presets and rules,
temperature readings, follow-up visits, needs, self-report links and care visits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords


class ObservationKind(models.TextChoices):
    HOME_ISOLATION = "home_isolation", _("Home isolation medical observation")
    CENTRALISED = "centralised", _("Centralised isolation")
    HEALTH_MONITORING = "health_monitoring", _("Home health monitoring")


class PeriodPreset(models.Model):
    """How long observation lasts (the national plan changed it from edition to edition): a
    number of days of isolation and then of home health monitoring, counted from the last
    contact or the arrival. The office adds and retires presets; a running episode keeps the
    days it started with."""

    name = models.CharField(_("name"), max_length=40, unique=True)
    isolation_days = models.PositiveSmallIntegerField(_("isolation days"))
    monitoring_days = models.PositiveSmallIntegerField(
        _("health monitoring days"),
        default=0,
        help_text=_("Days of home health monitoring after the isolation (the 3 of '7+3')."),
    )
    is_default = models.BooleanField(
        _("in force"), default=False, help_text=_("Used for new episodes unless another is chosen.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("period preset")
        verbose_name_plural = _("period presets")
        ordering = ("order", "pk")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_preset"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def total_days(self) -> int:
        return self.isolation_days + self.monitoring_days


class ObservationRules(models.Model):
    """The check windows, fever threshold and limits in force: one row (pk 1), changed by
    the office, kept in the audit trail. Defaults from DOMAIN.md."""

    SINGLETON_PK = 1

    morning_start = models.TimeField(_("morning check from"), default=dt.time(6, 0))
    morning_end = models.TimeField(_("morning check until"), default=dt.time(10, 0))
    afternoon_start = models.TimeField(_("afternoon check from"), default=dt.time(14, 0))
    afternoon_end = models.TimeField(_("afternoon check until"), default=dt.time(18, 0))
    fever_threshold = models.DecimalField(
        _("fever threshold (°C)"),
        max_digits=3,
        decimal_places=1,
        default=Decimal("37.3"),
        help_text=_("A reading at or above this raises a fever alert."),
    )
    need_answer_hours = models.PositiveSmallIntegerField(
        _("answer a need within (hours)"),
        default=24,
        help_text=_("A need still open this long raises an alert."),
    )
    self_reports_per_hour = models.PositiveSmallIntegerField(
        _("self-reports per hour"),
        default=6,
        help_text=_("Submissions accepted from one self-report link in an hour."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("observation rules")
        verbose_name_plural = _("observation rules")

    def __str__(self) -> str:
        return str(_("Observation rules"))


class Slot(models.TextChoices):
    MORNING = "morning", _("Morning")
    AFTERNOON = "afternoon", _("Afternoon")
    OTHER = "", _("Outside the check windows")


class ObservationEpisode(models.Model):
    """One period of observation of one person (居家隔离医学观察 and its kin).

    The period is counted from ``counts_from`` (the last contact or the arrival): isolation
    until ``isolation_end`` and, for presets with health monitoring, monitoring until
    ``planned_end``, the last day (day N after the day counted from). The person's status in
    the register follows from their episodes (:func:`services.sync_person_status`)."""

    class Reason(models.TextChoices):
        ARRIVAL = "arrival", _("Arrival from a risk area")
        CONTACT = "contact", _("Close contact")
        RETURNEE = "returnee", _("Returning resident")
        OTHER = "other", _("Other")

    class CountsFrom(models.TextChoices):
        LAST_CONTACT = "last_contact", _("Last contact")
        ARRIVAL = "arrival", _("Arrival")
        START = "start", _("Start of observation")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Under observation")
        RELEASED = "released", _("Released")
        REFERRED = "referred", _("Referred to hospital")
        SUSPECTED = "suspected", _("Suspected case")
        CONFIRMED = "confirmed", _("Confirmed case")

    person = models.ForeignKey(
        "org.Person",
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="episodes",
    )
    kind = models.CharField(
        _("kind"),
        max_length=20,
        choices=ObservationKind.choices,
        default=ObservationKind.HOME_ISOLATION,
    )
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    reason_note = models.CharField(_("reason details"), max_length=200, blank=True)
    screening = models.ForeignKey(
        "screening.Screening",
        verbose_name=_("screening"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="episodes",
        help_text=_("The screening that found the person, when there is one."),
    )
    counts_from = models.DateField(_("counted from"))
    counts_from_kind = models.CharField(
        _("counted from what"), max_length=14, choices=CountsFrom.choices
    )
    start_date = models.DateField(_("observation started"))
    preset = models.ForeignKey(
        PeriodPreset, verbose_name=_("period preset"), on_delete=models.PROTECT, related_name="+"
    )
    isolation_days = models.PositiveSmallIntegerField(_("isolation days"))
    monitoring_days = models.PositiveSmallIntegerField(_("health monitoring days"), default=0)
    isolation_end = models.DateField(_("isolation until"))
    planned_end = models.DateField(_("planned end"))
    place = models.CharField(
        _("place"),
        max_length=100,
        blank=True,
        help_text=_("Where the person stays: the home address, or the isolation site."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decision_note = models.CharField(_("decision note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("observation episode")
        verbose_name_plural = _("observation episodes")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(status="active"), name="one_active_episode"
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["status", "planned_end"]),
            models.Index(fields=["-start_date", "-id"]),
            # The ledger of running episodes, newest first, without sorting them all.
            models.Index(fields=["status", "-start_date", "-id"]),
            models.Index(fields=["person", "-start_date"]),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.start_date:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("observation:episode_detail", kwargs={"episode_id": self.pk})

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def total_days(self) -> int:
        return (self.planned_end - self.counts_from).days


class EpisodeResponsible(models.Model):
    """One of the named people responsible for an isolated household ("五包一")."""

    class Role(models.TextChoices):
        CADRE = "cadre", _("Cadre")
        VILLAGE_CADRE = "village_cadre", _("Village (farm) cadre")
        GRID_WORKER = "grid_worker", _("Grid worker")
        DOCTOR = "doctor", _("Doctor")
        POLICE = "police", _("Police officer")

    episode = models.ForeignKey(
        ObservationEpisode,
        verbose_name=_("episode"),
        on_delete=models.CASCADE,
        related_name="responsible",
    )
    role = models.CharField(_("role"), max_length=14, choices=Role.choices)
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("responsible person")
        verbose_name_plural = _("responsible people")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["episode", "role"], name="one_responsible_per_role")
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.name}"


class Source(models.TextChoices):
    STAFF = "staff", _("Staff")
    SELF = "self", _("Self-report")


class SelfReportLink(models.Model):
    """The personal link (and QR code) of an episode: opens the self-report page without a
    login while the episode runs. The token is stored so that the notice can be printed
    again; revoking it (and issuing a new one) is how a leaked link is stopped."""

    episode = models.ForeignKey(
        ObservationEpisode,
        verbose_name=_("episode"),
        on_delete=models.CASCADE,
        related_name="links",
    )
    token = models.CharField(_("token"), max_length=64, unique=True, editable=False)
    issued_at = models.DateTimeField(_("issued"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    history = HistoricalRecords(excluded_fields=["token"])

    class Meta:
        verbose_name = _("self-report link")
        verbose_name_plural = _("self-report links")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["episode"], condition=Q(revoked_at__isnull=True), name="one_live_link"
            )
        ]

    def __str__(self) -> str:
        return f"{self.episode} {self.token[:6]}…"

    def get_absolute_url(self) -> str:
        return reverse("selfreport:report", kwargs={"token": self.token})


class TemperatureReading(models.Model):
    """One temperature reading, with symptoms, taken by staff or reported by the person."""

    # Found through the (episode, day, slot) index: no index of its own, one index fewer to
    # write with each of the millions of readings.
    episode = models.ForeignKey(
        ObservationEpisode,
        verbose_name=_("episode"),
        on_delete=models.PROTECT,
        related_name="readings",
        db_index=False,
    )
    taken_at = models.DateTimeField(_("taken at"))
    day = models.DateField(_("date"))  # taken_at's date in Asia/Shanghai
    slot = models.CharField(_("check"), max_length=10, choices=Slot.choices, blank=True)
    value = models.DecimalField(_("temperature (°C)"), max_digits=3, decimal_places=1)
    symptoms = models.JSONField(_("symptoms"), default=list, blank=True)
    is_fever = models.BooleanField(_("fever"), default=False)
    source = models.CharField(_("source"), max_length=5, choices=Source.choices)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("taken by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    link = models.ForeignKey(
        SelfReportLink,
        verbose_name=_("self-report link"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="readings",
        db_index=False,  # found through the (link, created_at) index
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    # Sent by a phone with each submission: the same key again is the same reading.
    idempotency_key = models.CharField(max_length=80, blank=True, editable=False)
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)
    # The audit trail is read by record and by date: its copies of the links need no index.
    history = HistoricalRecords(
        excluded_fields=["idempotency_key"], no_db_index=["episode", "link", "taken_by"]
    )

    class Meta:
        verbose_name = _("temperature reading")
        verbose_name_plural = _("temperature readings")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="reading_unique_idempotency_key",
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["episode", "day", "slot"]),
            models.Index(fields=["link", "created_at"]),
            # The day's fevers (home page, daily report) among millions of readings.
            models.Index(fields=["day"], condition=Q(is_fever=True), name="reading_fever_day"),
        ]

    def __str__(self) -> str:
        return f"{self.taken_at:%Y-%m-%d %H:%M} {self.value} °C"


class FollowUpVisit(models.Model):
    """The daily follow-up (每日随访) of a person under observation."""

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        PHONE = "phone", _("Phone")
        WECHAT = "wechat", _("WeChat")

    episode = models.ForeignKey(
        ObservationEpisode,
        verbose_name=_("episode"),
        on_delete=models.PROTECT,
        related_name="visits",
    )
    visited_at = models.DateTimeField(_("visited at"))
    day = models.DateField(_("date"))
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices)
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    visitor_name = models.CharField(_("visitor"), max_length=50, blank=True)
    findings = models.TextField(_("findings"), blank=True)
    needs = models.CharField(_("needs raised"), max_length=300, blank=True)
    abnormal = models.BooleanField(_("abnormality reported"), default=False)
    idempotency_key = models.CharField(max_length=80, blank=True, editable=False)
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)
    history = HistoricalRecords(excluded_fields=["idempotency_key"])

    class Meta:
        verbose_name = _("follow-up visit")
        verbose_name_plural = _("follow-up visits")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="visit_unique_idempotency_key",
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["episode", "day"]),
            # The day's visits over every episode (who has had none today: home page).
            models.Index(fields=["day", "episode"]),
        ]

    def __str__(self) -> str:
        return f"{self.visited_at:%Y-%m-%d %H:%M} {self.get_mode_display()}"


class Need(models.Model):
    """A difficulty raised by the household (生活物资、药品、心理…), tracked to resolved."""

    class Kind(models.TextChoices):
        SUPPLIES = "supplies", _("Daily supplies")
        MEDICINE = "medicine", _("Medicine")
        MEDICAL = "medical", _("Medical care")
        PSYCHOLOGICAL = "psychological", _("Psychological support")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("need", "Open")
        IN_PROGRESS = "in_progress", _("In progress")
        RESOLVED = "resolved", _("Resolved")

    episode = models.ForeignKey(
        ObservationEpisode,
        verbose_name=_("episode"),
        on_delete=models.PROTECT,
        related_name="needs_raised",
    )
    kind = models.CharField(_("kind"), max_length=14, choices=Kind.choices)
    description = models.CharField(_("description"), max_length=300)
    raised_at = models.DateTimeField(_("raised"))
    source = models.CharField(_("source"), max_length=5, choices=Source.choices)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("raised by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    link = models.ForeignKey(
        SelfReportLink,
        verbose_name=_("self-report link"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="needs",
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolution = models.CharField(_("what was done"), max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("need")
        verbose_name_plural = _("needs")
        indexes: ClassVar = [models.Index(fields=["status", "raised_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.description}"


class CareItemKind(models.Model):
    """What a care visit brings (rice, flour, cooking oil, dairy, cash, …): data, not columns."""

    name = models.CharField(_("name"), max_length=30, unique=True)
    unit = models.CharField(_("unit"), max_length=10, help_text=_("e.g. kg, bag, yuan"))
    is_cash = models.BooleanField(_("cash"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("care item")
        verbose_name_plural = _("care items")
        ordering = ("order", "pk")

    def __str__(self) -> str:
        return f"{self.name} ({self.unit})"


class CareVisit(models.Model):
    """A care visit (关爱慰问) to a household: who went, what they brought, what was said."""

    household = models.ForeignKey(
        "org.Household",
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="care_visits",
    )
    episode = models.ForeignKey(
        ObservationEpisode,
        verbose_name=_("episode"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="care_visits",
    )
    visited_on = models.DateField(_("date"))
    visitors = models.CharField(_("visitors"), max_length=200)
    words = models.TextField(_("the household's words"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("care visit")
        verbose_name_plural = _("care visits")
        indexes: ClassVar = [models.Index(fields=["-visited_on", "-id"])]

    def __str__(self) -> str:
        return f"{self.visited_on:%Y-%m-%d} {self.household}"


class CareItem(models.Model):
    visit = models.ForeignKey(
        CareVisit, verbose_name=_("care visit"), on_delete=models.CASCADE, related_name="items"
    )
    kind = models.ForeignKey(
        CareItemKind, verbose_name=_("item"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2)

    class Meta:
        verbose_name = _("care item given")
        verbose_name_plural = _("care items given")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["visit", "kind"], name="one_line_per_item")
        ]

    def __str__(self) -> str:
        return f"{self.kind.name} {self.quantity}"
