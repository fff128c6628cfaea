"""The organisation (branch → units → grids), households, persons, users and their roles."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from fangkong.core.permissions import Role


class User(AbstractUser):
    """A person who logs in. What they may see and do comes from their role assignments."""

    full_name = models.CharField(_("full name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.username


class OrgUnit(models.Model):
    """A node of the organisation tree: branch (分公司), unit (单位) or grid (网格)."""

    class Kind(models.TextChoices):
        BRANCH = "branch", _("Branch")
        UNIT = "unit", _("Unit")
        GRID = "grid", _("Grid")

    code = models.CharField(
        _("code"),
        max_length=40,
        unique=True,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9][A-Za-z0-9-]*$",
                _("Use letters, digits and dashes only, e.g. LZ-03-12."),
            )
        ],
        help_text=_("Stable code, e.g. LZ-03-12. It never changes once in use."),
    )
    name = models.CharField(pgettext_lazy("org unit", "name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Materialised path of zero-padded primary keys, "/0000000001/0000000005/": a subtree is a
    # prefix match, and ordering by path lists the tree depth first (see child_path).
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    responsible = models.CharField(
        _("responsible people"),
        max_length=200,
        blank=True,
        help_text=_("Names of the people responsible, e.g. the unit head or the grid workers."),
    )
    responsible_phone = models.CharField(_("responsible phone"), max_length=20, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        ordering = ["path"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def get_absolute_url(self) -> str:
        return reverse("org:unit_detail", kwargs={"orgunit_id": self.pk})

    @staticmethod
    def child_path(parent_path: str, pk: int) -> str:
        """The path of the unit ``pk`` below a unit with ``parent_path`` ("" for a root)."""
        return f"{parent_path or '/'}{pk:010d}/"

    @property
    def path_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]


class Household(models.Model):
    """A household (户) living in one grid."""

    grid = models.ForeignKey(
        OrgUnit,
        verbose_name=_("grid"),
        on_delete=models.PROTECT,
        related_name="households",
        limit_choices_to={"kind": OrgUnit.Kind.GRID},
    )
    address = models.CharField(_("address"), max_length=200)
    head = models.ForeignKey(
        "Person",
        verbose_name=_("head of household"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Lower-cased "address phone", indexed for substring search (FTS5 trigram / pg_trgm).
    search_text = models.CharField(max_length=240, editable=False, default="")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["search_text", "updated_at"])

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        indexes: ClassVar = [
            models.Index(fields=["grid", "address"]),
            # Counting a grid's households (coverage) from the index alone.
            models.Index(fields=["grid", "is_active"]),
        ]

    def __str__(self) -> str:
        return self.address

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_text = household_search_text(self.address, self.phone)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("org:household_detail", kwargs={"household_id": self.pk})


class Person(models.Model):
    """A person in the register (一人一档)."""

    class Sex(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")
        UNKNOWN = "U", _("Unknown")

    class Category(models.TextChoices):
        RESIDENT = "resident", _("Resident")
        EMPLOYEE = "employee", _("Employee")
        TEMPORARY = "temporary", _("Temporary worker")
        VISITOR = "visitor", _("Visitor")

    class Relation(models.TextChoices):
        HEAD = "head", _("Head of household")
        SPOUSE = "spouse", _("Spouse")
        CHILD = "child", _("Child")
        PARENT = "parent", _("Parent")
        SIBLING = "sibling", _("Sibling")
        GRANDCHILD = "grandchild", _("Grandchild")
        GRANDPARENT = "grandparent", _("Grandparent")
        TENANT = "tenant", _("Tenant")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        NORMAL = "normal", _("Normal")
        UNDER_OBSERVATION = "observation", _("Under observation")
        REFERRED = "referred", _("Referred to hospital")
        SUSPECTED = "suspected", _("Suspected case")
        CONFIRMED = "confirmed", _("Confirmed case")
        AWAY = "away", _("Away")
        MOVED_OUT = "moved_out", _("Moved out")

    name = models.CharField(_("name"), max_length=50)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    id_number = models.CharField(
        _("ID number"),
        max_length=18,
        blank=True,
        help_text=_(
            "18-character resident ID number; leave empty for a child or visitor without one."
        ),
    )
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    grid = models.ForeignKey(
        OrgUnit,
        verbose_name=_("grid"),
        on_delete=models.PROTECT,
        related_name="persons",
        limit_choices_to={"kind": OrgUnit.Kind.GRID},
        help_text=_("The household's grid; set for you when the person is in a household."),
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    relation = models.CharField(
        _("relation to head"), max_length=12, choices=Relation.choices, default=Relation.OTHER
    )
    category = models.CharField(
        _("category"), max_length=10, choices=Category.choices, default=Category.RESIDENT
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.NORMAL
    )
    occupation = models.CharField(_("occupation"), max_length=50, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Lower-cased "name id phone", indexed for substring search (FTS5 trigram / pg_trgm).
    search_text = models.CharField(max_length=120, editable=False, default="")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["search_text", "updated_at"])

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["id_number"],
                condition=Q(is_active=True) & ~Q(id_number=""),
                name="person_unique_active_id_number",
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["grid", "name"]),
            models.Index(fields=["name"]),
            models.Index(fields=["phone"]),
            # Persons by status: a whole organisation's number under observation counted
            # from the index alone, a narrower scope's through its grids.
            models.Index(fields=["status", "is_active", "grid"]),
            # Counting a grid's persons by status (coverage) from the index alone.
            models.Index(fields=["grid", "is_active", "status"]),
            # Counting those without an ID number (home page) from the index alone: a few
            # among many, the condition's columns in it so that SQLite need not read the rows.
            models.Index(
                fields=["grid", "is_active", "id_number"],
                condition=Q(id_number="", is_active=True),
                name="person_lacks_id_grid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_text = person_search_text(self.name, self.id_number, self.phone)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("org:person_detail", kwargs={"person_id": self.pk})

    @property
    def lacks_id_number(self) -> bool:
        return not self.id_number


def household_search_text(address: str, phone: str) -> str:
    return f"{address} {phone}".lower()


def person_search_text(name: str, id_number: str, phone: str) -> str:
    return f"{name} {id_number} {phone}".lower()


class RoleAssignment(models.Model):
    """A role held by a user over an org unit's subtree (everything, for a system admin)."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="assignments"
    )
    role = models.CharField(_("role"), max_length=12, choices=Role.choices)
    org_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("org unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assignments",
        help_text=_("Empty only for a system administrator: the whole organisation."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["user", "role", "org_unit"], name="assignment_unique_user_role_unit"
            )
        ]

    def __str__(self) -> str:
        where = self.org_unit.code if self.org_unit else "*"
        return f"{self.user} {self.role}@{where}"


class ApiToken(models.Model):
    """A bearer token for the REST API. Only its SHA-256 hash is stored."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=60, blank=True)
    prefix = models.CharField(max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class TimelineEvent(models.Model):
    """One thing that happened to a person: the one timeline every workflow writes to."""

    # Found through the (person, occurred_at, id) index: no index of its own.
    person = models.ForeignKey(
        Person,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="timeline",
        db_index=False,
    )
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    kind = models.CharField(_("kind"), max_length=40)
    summary = models.CharField(_("summary"), max_length=300)
    data = models.JSONField(_("details"), default=dict, blank=True)
    actor = models.ForeignKey(
        User,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        indexes: ClassVar = [models.Index(fields=["person", "-occurred_at", "-id"])]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.summary}"


class GridCount(models.Model):
    """How many households and persons a grid has now: active households; active persons who
    have not moved out. Kept by :func:`fangkong.org.services.refresh_grid_counts`, called by
    every write that changes them, so that pages summing a whole branch (screening coverage)
    read one row per grid instead of counting a million persons."""

    grid = models.OneToOneField(
        OrgUnit, primary_key=True, on_delete=models.CASCADE, related_name="count"
    )
    households = models.PositiveIntegerField(default=0)
    persons = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.grid_id}: {self.households} households, {self.persons} persons"
