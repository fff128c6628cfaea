"""Regions (GB/T 2260) and the risk level each held, period by period."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords


class Region(models.Model):
    """A province, prefecture or county by its 6-digit GB/T 2260 code (historic ones too)."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        PREFECTURE = "prefecture", _("Prefecture")
        COUNTY = "county", _("County")

    code = models.CharField(_("region code"), max_length=6, primary_key=True)
    name = models.CharField(pgettext_lazy("region", "name"), max_length=50, db_index=True)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    valid_from_year = models.PositiveSmallIntegerField(_("valid from (year)"), null=True)
    valid_to_year = models.PositiveSmallIntegerField(_("valid until (year)"), null=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def full_name(self) -> str:
        """Province, prefecture and county names, e.g. "甘肃省 张掖市 临泽县" (load the
        parents with ``select_related("parent__parent")`` when listing)."""
        names = [self.name]
        parent = self.parent
        while parent is not None:
            names.insert(0, parent.name)
            parent = parent.parent
        return " ".join(names)


class RiskLevel(models.TextChoices):
    HIGH = "high", _("High risk")
    MEDIUM = "medium", _("Medium risk")
    LOW = "low", _("Low risk")


# Most severe first: where periods of a region and of its parents meet, the highest wins.
SEVERITY: dict[str, int] = {RiskLevel.HIGH: 3, RiskLevel.MEDIUM: 2, RiskLevel.LOW: 1}


class RiskAreaPeriod(models.Model):
    """A region at one risk level from ``start`` to ``end`` (both days included; no end while
    it holds). The periods of one region never overlap (see ``services.set_risk_level``)."""

    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="risk_periods"
    )
    level = models.CharField(_("risk level"), max_length=6, choices=RiskLevel.choices)
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("risk area period")
        verbose_name_plural = _("risk area periods")
        ordering = ["-start", "region_id"]
        indexes: ClassVar = [models.Index(fields=["region", "start"])]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                name="risk_period_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.level} {self.start}–{self.end or ''}"

    def get_absolute_url(self) -> str:
        return f"{reverse('screening:risk_area_list')}?{urlencode({'q': self.region_id})}"


# ---------------------------------------------------------------------------------------------
# The rules that classify a screening result


class ScreeningRules(models.Model):
    """The classification rules in force: one row (pk 1), changed by the office, kept in the
    audit trail. Defaults from DOMAIN.md (the 2020 national plan and local rule)."""

    SINGLETON_PK = 1

    travel_window_days = models.PositiveSmallIntegerField(
        _("travel window (days)"),
        default=14,
        help_text=_("An arrival from a risk area this many days ago or less makes a key person."),
    )
    medium_risk_is_key = models.BooleanField(
        _("medium-risk areas count"),
        default=True,
        help_text=_("Arrivals from medium-risk areas are key persons too (high-risk ones always)."),
    )
    contact_window_days = models.PositiveSmallIntegerField(
        _("contact window (days)"),
        default=14,
        help_text=_("Contact with a case or a risk-area arrival this many days ago or less."),
    )
    fever_threshold = models.DecimalField(
        _("fever threshold (°C)"), max_digits=3, decimal_places=1, default=Decimal("37.3")
    )
    arrival_report_hours = models.PositiveSmallIntegerField(
        _("arrival report limit (hours)"),
        default=6,
        help_text=_("A new arrival registered later than this after arriving is flagged late."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("screening rules")
        verbose_name_plural = _("screening rules")

    def __str__(self) -> str:
        return str(_("Screening rules"))

    def get_absolute_url(self) -> str:
        return reverse("screening:rules")


# ---------------------------------------------------------------------------------------------
# Campaigns


class Campaign(models.Model):
    """A screening campaign (摸排) over one org unit's subtree: every household and person in it."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    name = models.CharField(pgettext_lazy("campaign", "name"), max_length=100)
    unit = models.ForeignKey(
        "org.OrgUnit",
        verbose_name=_("scope"),
        on_delete=models.PROTECT,
        related_name="campaigns",
        help_text=_("The branch, unit or grid whose households are screened."),
    )
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True)
    instructions = models.TextField(_("instructions"), blank=True)
    status = models.CharField(
        _("status"), max_length=6, choices=Status.choices, default=Status.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("screening campaign")
        verbose_name_plural = _("screening campaigns")
        ordering = ["-start", "-pk"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                name="campaign_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("screening:campaign_detail", kwargs={"campaign_id": self.pk})

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class CampaignAssignment(models.Model):
    """A grid of a campaign given to one of its grid workers."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="assignments"
    )
    grid = models.ForeignKey(
        "org.OrgUnit", verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+"
    )
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("grid worker"),
        on_delete=models.CASCADE,
        related_name="campaign_assignments",
    )

    class Meta:
        verbose_name = _("campaign assignment")
        verbose_name_plural = _("campaign assignments")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["campaign", "grid", "worker"], name="campaign_assignment_unique"
            )
        ]
        indexes: ClassVar = [models.Index(fields=["worker", "campaign"])]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.grid_id} {self.worker_id}"


class CampaignTally(models.Model):
    """The running counts of a campaign in one grid, kept by the services in the transaction
    that changes them (``services.recount_campaign`` rebuilds them from the records). The
    totals come live from the register; these are what was done."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="tallies")
    grid = models.ForeignKey(
        "org.OrgUnit", on_delete=models.PROTECT, related_name="campaign_tallies"
    )
    households_visited = models.PositiveIntegerField(default=0)
    households_nobody_home = models.PositiveIntegerField(default=0)
    persons_screened = models.PositiveIntegerField(default=0)
    persons_moved_out = models.PositiveIntegerField(default=0)
    key_persons = models.PositiveIntegerField(default=0)
    urgent_persons = models.PositiveIntegerField(default=0)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["campaign", "grid"], name="campaign_tally_unique")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.grid_id}"


class CampaignHousehold(models.Model):
    """Where a household stands in a campaign: someone answered (visited) or, so far, nobody
    was home. A household without a row has not been visited yet."""

    class Status(models.TextChoices):
        VISITED = "visited", _("Visited")
        NOBODY_HOME = "nobody_home", _("Nobody home")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="households")
    household = models.ForeignKey("org.Household", on_delete=models.CASCADE, related_name="+")
    grid = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    visits = models.PositiveIntegerField(_("visits"), default=0)
    last_visit_at = models.DateTimeField(_("last visit"))

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["campaign", "household"], name="campaign_household_unique"
            )
        ]
        indexes: ClassVar = [models.Index(fields=["campaign", "grid", "status"])]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.household_id} {self.status}"


class HouseholdVisit(models.Model):
    """One knock on a household's door in a campaign, answered or not."""

    class Outcome(models.TextChoices):
        ANSWERED = "answered", _("Answered")
        NOBODY_HOME = "nobody_home", _("Nobody home")

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="visits"
    )
    household = models.ForeignKey(
        "org.Household", verbose_name=_("household"), on_delete=models.CASCADE, related_name="+"
    )
    grid = models.ForeignKey(
        "org.OrgUnit", verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+"
    )
    visited_at = models.DateTimeField(_("time"))
    visited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("household visit")
        verbose_name_plural = _("household visits")
        indexes: ClassVar = [models.Index(fields=["campaign", "household", "-visited_at"])]

    def __str__(self) -> str:
        return f"{self.household_id} {self.visited_at:%Y-%m-%d %H:%M} {self.outcome}"


# ---------------------------------------------------------------------------------------------
# Screening results: the ledger (排查台账)


class Transport(models.TextChoices):
    TRAIN = "train", _("Train")
    PLANE = "plane", _("Plane")
    COACH = "coach", _("Coach")
    CAR = "car", _("Own car")
    SHIP = "ship", _("Ship")
    OTHER = "other", _("Other")


class ContactKind(models.TextChoices):
    CASE = "case", _("A confirmed or suspected case")
    RISK_ARRIVAL = "risk_arrival", _("Someone from a risk area")
    FEVER = "fever", _("A fever patient")


class ContactRelation(models.TextChoices):
    FAMILY = "family", _("Family")
    COLLEAGUE = "colleague", _("Colleague")
    CLASSMATE = "classmate", _("Classmate")
    MEDICAL = "medical", _("Medical")
    OTHER = "other", _("Other")


class ContactMode(models.TextChoices):
    MEAL = "meal", _("Shared a meal")
    ROOM = "room", _("Same room")
    VEHICLE = "vehicle", _("Same vehicle")
    CARE = "care", _("Cared for them")
    VISIT = "visit", _("Visit")
    OTHER = "other", _("Other")


class Screening(models.Model):
    """The result of screening one person: at the door in a campaign (one row per person and
    campaign, corrected in place with the audit trail keeping each version), or the
    registration of a new arrival between campaigns. Classified by the rules in force."""

    class Kind(models.TextChoices):
        DOOR = "door", _("Door-to-door screening")
        ARRIVAL = "arrival", _("New arrival")

    class Presence(models.TextChoices):
        PRESENT = "present", _("Present")
        AWAY = "away", _("Away")
        MOVED_OUT = "moved_out", _("Moved out")

    class Category(models.TextChoices):
        NO_RISK = "no_risk", _("No risk")
        RISK_AREA_ARRIVAL = "risk_area_arrival", _("Arrival from a risk area")
        CLOSE_CONTACT = "close_contact", _("Close contact")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.DOOR)
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="screenings",
    )
    person = models.ForeignKey(
        "org.Person", verbose_name=_("person"), on_delete=models.PROTECT, related_name="screenings"
    )
    # The person's grid and household when screened: coverage counts where the work was done.
    grid = models.ForeignKey(
        "org.OrgUnit", verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+"
    )
    household = models.ForeignKey(
        "org.Household",
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    screened_at = models.DateTimeField(_("screened at"))
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("screened by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    presence = models.CharField(
        _("presence"), max_length=10, choices=Presence.choices, default=Presence.PRESENT
    )
    # Travel in the last days (the latest trip).
    from_region = models.ForeignKey(
        Region,
        verbose_name=_("came from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    departed_at = models.DateTimeField(_("left there"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived"), null=True, blank=True)
    transport = models.CharField(
        _("transport"), max_length=6, choices=Transport.choices, blank=True
    )
    transport_no = models.CharField(_("train or flight number"), max_length=20, blank=True)
    stopovers = models.CharField(_("stop-overs"), max_length=200, blank=True)
    # Contact with a case, a risk-area arrival or a fever patient.
    contact_kind = models.CharField(
        _("contact with"), max_length=12, choices=ContactKind.choices, blank=True
    )
    contact_person = models.ForeignKey(
        "org.Person",
        verbose_name=_("contact (in the register)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    contact_name = models.CharField(_("contact's name"), max_length=50, blank=True)
    contact_date = models.DateField(_("last contact"), null=True, blank=True)
    contact_relation = models.CharField(
        _("relation"), max_length=10, choices=ContactRelation.choices, blank=True
    )
    contact_mode = models.CharField(
        _("contact mode"), max_length=8, choices=ContactMode.choices, blank=True
    )
    symptoms = models.JSONField(_("symptoms"), default=list, blank=True)
    temperature = models.DecimalField(
        _("temperature (°C)"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    # The classification, by the rules in force when it was recorded.
    category = models.CharField(
        _("classification"), max_length=20, choices=Category.choices, default=Category.NO_RISK
    )
    is_key = models.BooleanField(_("key person"), default=False)
    is_urgent = models.BooleanField(_("urgent"), default=False)
    reasons = models.JSONField(_("rules that fired"), default=list, blank=True)
    late_registration = models.BooleanField(_("registered late"), default=False)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_at = models.DateTimeField(_("recorded"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["recorded_at"])

    class Meta:
        verbose_name = _("screening")
        verbose_name_plural = _("screenings")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["campaign", "person"],
                condition=Q(campaign__isnull=False),
                name="screening_once_per_campaign",
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["campaign", "grid"]),
            models.Index(fields=["-screened_at", "-id"]),
            models.Index(fields=["grid", "-screened_at"]),
            models.Index(fields=["person", "-screened_at"]),
            # The ledger's "key persons only": counted per grid without reading the rows.
            models.Index(
                fields=["grid", "-screened_at"],
                condition=Q(is_key=True),
                name="screening_key_by_grid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.screened_at:%Y-%m-%d} {self.category}"

    def get_absolute_url(self) -> str:
        return reverse("screening:screening_detail", kwargs={"screening_id": self.pk})


class ContactLink(models.Model):
    """Who met whom: ``person`` had contact with ``source`` (a person in the register) or with
    someone named ``source_name``. The chain of links is the close-contact graph."""

    person = models.ForeignKey(
        "org.Person",
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="contacts_met",
    )
    source = models.ForeignKey(
        "org.Person",
        verbose_name=_("met"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="contacts_of",
    )
    source_name = models.CharField(_("met (name)"), max_length=50, blank=True)
    kind = models.CharField(_("who they were"), max_length=12, choices=ContactKind.choices)
    relation = models.CharField(
        _("relation"), max_length=10, choices=ContactRelation.choices, blank=True
    )
    mode = models.CharField(
        _("contact mode"), max_length=8, choices=ContactMode.choices, blank=True
    )
    last_contact = models.DateField(_("last contact"), null=True, blank=True)
    screening = models.ForeignKey(
        Screening,
        verbose_name=_("screening"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact_links",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(source__isnull=False) | ~Q(source_name=""),
                name="contact_link_names_someone",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person_id} ← {self.source_id or self.source_name}"
