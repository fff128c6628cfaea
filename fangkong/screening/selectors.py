"""Shared reads of the screening workflow. Risk areas and regions are national data, the same
for every user; everything else goes through the user's scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Case,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone

from fangkong.core.permissions import Perm
from fangkong.core.regions import ancestor_codes
from fangkong.core.scoping import restrict, restrict_newest_first
from fangkong.core.search import substring_filter
from fangkong.org.models import GridCount, Household, OrgUnit, Person, User

from .models import (
    SEVERITY,
    Campaign,
    CampaignAssignment,
    CampaignHousehold,
    CampaignTally,
    ContactLink,
    Region,
    RiskAreaPeriod,
    RiskLevel,
    Screening,
    ScreeningRules,
)


def _in_force(day: dt.date) -> Q:
    return Q(start__lte=day) & (Q(end__isnull=True) | Q(end__gte=day))


def risk_level_on(region_code: str, day: dt.date) -> RiskLevel | None:
    """The risk level of the region ``region_code`` on ``day``: the most severe of the periods
    in force that day for the region, its prefecture and its province; None when none is."""
    levels = RiskAreaPeriod.objects.filter(
        _in_force(day), region_id__in=ancestor_codes(region_code)
    ).values_list("level", flat=True)
    worst = max(levels, key=lambda level: SEVERITY[level], default=None)
    return RiskLevel(worst) if worst is not None else None


_SEVERITY_ORDER = Case(
    *(When(level=level, then=Value(rank)) for level, rank in SEVERITY.items()),
    output_field=IntegerField(),
)


def risk_areas_current(day: dt.date) -> QuerySet[RiskAreaPeriod]:
    """The periods in force on ``day``, most severe first, then by region code."""
    return (
        RiskAreaPeriod.objects.filter(_in_force(day))
        .select_related("region", "region__parent", "region__parent__parent")
        .annotate(severity=_SEVERITY_ORDER)
        .order_by("-severity", "region_id")
    )


@dataclass(frozen=True)
class RiskPeriodFilters:
    q: str = ""  # region code (its start) or part of its name
    level: str = ""
    current_on: dt.date | None = None  # only the periods in force on that day


def risk_periods(filters: RiskPeriodFilters | None = None) -> QuerySet[RiskAreaPeriod]:
    """Current and past periods, newest first."""
    f = filters or RiskPeriodFilters()
    qs = RiskAreaPeriod.objects.all()
    if f.level:
        qs = qs.filter(level=f.level)
    if f.current_on is not None:
        qs = qs.filter(_in_force(f.current_on))
    if f.q:
        qs = qs.filter(region__in=regions_matching(f.q))
    return qs.select_related("region", "region__parent", "region__parent__parent", "set_by")


def regions_matching(query: str) -> QuerySet[Region]:
    """Regions whose code starts with ``query`` or whose name contains it."""
    query = query.strip()
    if query.isdigit():
        return Region.objects.filter(code__startswith=query)
    return Region.objects.filter(name__icontains=query)


def open_period(region: Region) -> RiskAreaPeriod | None:
    return RiskAreaPeriod.objects.filter(region=region, end__isnull=True).first()


# ---------------------------------------------------------------------------------------------
# The rules


def current_rules() -> ScreeningRules:
    """The rules in force (the defaults until the office changes them)."""
    rules = ScreeningRules.objects.filter(pk=ScreeningRules.SINGLETON_PK).first()
    return rules if rules is not None else ScreeningRules(pk=ScreeningRules.SINGLETON_PK)


# ---------------------------------------------------------------------------------------------
# Campaigns and coverage


def campaigns_for(user: Any, *, status: str = "") -> QuerySet[Campaign]:
    """The campaigns whose scope overlaps the user's (a branch-wide campaign is seen by the
    grid worker of one grid), newest first."""
    qs = restrict(Campaign.objects.all(), user)
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("unit").order_by("-start", "-pk")


def grids_of(campaign: Campaign, user: Any, *, under: OrgUnit | None = None) -> QuerySet[OrgUnit]:
    """The active grids of ``campaign`` the user may see (below ``under`` when given)."""
    qs = restrict(
        OrgUnit.objects.filter(
            kind=OrgUnit.Kind.GRID, is_active=True, path__startswith=campaign.unit.path
        ),
        user,
        Perm.SCREENING_VIEW,
    )
    if under is not None:
        qs = qs.filter(path__startswith=under.path)
    return qs


@dataclass
class Coverage:
    """What is done and what is left in a part of a campaign."""

    unit: OrgUnit | None = None
    unit_path: str = ""
    households_total: int = 0
    households_visited: int = 0
    households_nobody_home: int = 0
    persons_total: int = 0
    persons_screened: int = 0
    persons_moved_out: int = 0
    key_persons: int = 0
    urgent_persons: int = 0
    workers: list[Any] = field(default_factory=list)

    @property
    def households_left(self) -> int:
        return max(self.households_total - self.households_visited, 0)

    @property
    def persons_never_seen(self) -> int:
        return max(self.persons_total - self.persons_screened, 0)

    @property
    def households_percent(self) -> int:
        return _percent(self.households_visited, self.households_total)

    @property
    def persons_percent(self) -> int:
        return _percent(self.persons_screened, self.persons_total)

    @property
    def complete(self) -> bool:
        return self.households_left == 0 and self.persons_never_seen == 0

    def add(self, other: Coverage) -> None:
        for name in COUNT_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


COUNT_FIELDS = (
    "households_total",
    "households_visited",
    "households_nobody_home",
    "persons_total",
    "persons_screened",
    "persons_moved_out",
    "key_persons",
    "urgent_persons",
)
TALLY_FIELDS = COUNT_FIELDS[1:3] + COUNT_FIELDS[4:]


def _percent(done: int, total: int) -> int:
    """Whole percent, rounded down: 100 only when everything is done."""
    return 100 if total == 0 else done * 100 // total


def _totals(campaign: Campaign, grids: QuerySet[OrgUnit], key: Any) -> dict[Any, Coverage]:
    """Coverage of ``grids`` summed by ``key`` (an expression over the grid's fields, named
    ``row`` here: its id, or the path of the unit above it), in two queries whatever the
    number of grids: the register's totals per grid are kept in GridCount, what was done in
    the campaign's tallies."""
    result: dict[Any, Coverage] = {}
    grid_ids = grids.values("pk")
    for row, households, persons in (
        GridCount.objects.filter(grid__in=grid_ids)
        .annotate(row=key("grid__"))
        .values_list("row")
        .annotate(Sum("households"), Sum("persons"))
        .order_by()
    ):
        cov = result.setdefault(row, Coverage())
        cov.households_total = households or 0
        cov.persons_total = persons or 0
    sums = {name: Sum(name) for name in TALLY_FIELDS}
    for done in (
        CampaignTally.objects.filter(campaign=campaign, grid__in=grid_ids)
        .annotate(row=key("grid__"))
        .values("row")
        .annotate(**sums)
        .order_by()
    ):
        cov = result.setdefault(done.pop("row"), Coverage())
        for name, value in done.items():
            setattr(cov, name, value or 0)
        # Found moved out in this campaign: screened, and so counted, though the register
        # no longer expects them.
        cov.persons_total += cov.persons_moved_out
    return result


def _by_grid(prefix: str) -> F:
    return F(f"{prefix}pk")


def grid_coverage(campaign: Campaign, grids: QuerySet[OrgUnit]) -> dict[int, Coverage]:
    """Coverage per grid (by grid id) of ``grids``, in two queries whatever their number.

    Totals: active households, and active persons who have not moved out (kept per grid in
    GridCount by the register's services), plus those found moved out in this campaign
    (they were screened, and counted). What was done comes from the campaign's tallies."""
    return _totals(campaign, grids, _by_grid)


def coverage(
    campaign: Campaign, user: Any, *, under: OrgUnit | None = None, units: bool = True
) -> tuple[Coverage, list[Coverage]]:
    """The campaign's coverage in what the user may see below ``under`` (default: the whole
    campaign): the total, and one row per unit one level below ``under`` — per grid when
    those are grids. Rows are in tree order. Summed by the database: three queries, whatever
    the number of grids. With ``units=False`` the rows' units are not loaded (``unit_path``
    says which each is): a page that shows some of thousands of rows loads its own with
    :func:`attach_units`."""
    base = under if under is not None else campaign.unit
    grids = grids_of(campaign, user, under=under)
    # The row of a grid is the unit one level below ``base`` on its path: the path's prefix
    # one zero-padded id longer than ``base``'s (the grid itself when it is that unit).
    cut = len(base.path) + len(OrgUnit.child_path("", 0)) - 1
    per_row = _totals(campaign, grids, lambda prefix: Substr(f"{prefix}path", 1, cut))
    total = Coverage(unit=base)
    rows: list[Coverage] = []
    for path in sorted(per_row):
        row = per_row[path]
        row.unit_path = path
        total.add(row)
        rows.append(row)
    if units:
        attach_units(rows)
    return total, rows


def attach_units(rows: Sequence[Coverage]) -> None:
    """Load the unit of each row (by its ``unit_path``) in one query."""
    found = {u.path: u for u in OrgUnit.objects.filter(path__in=[r.unit_path for r in rows])}
    for row in rows:
        row.unit = found.get(row.unit_path)


def worker_sums(campaign: Campaign, user: Any, *, under: OrgUnit | None = None) -> QuerySet[Any]:
    """Per grid worker of the campaign (in what the user may see, below ``under``), the sums
    over their grids as dicts (``worker`` and the count fields), summed by the database and
    ordered with the workers most behind first: page it, then :func:`worker_rows`."""
    grids = grids_of(campaign, user, under=under)
    zero = Value(0)
    sums: dict[str, Any] = {
        "households_total": Coalesce(Sum("grid__count__households"), zero),
        "persons_expected": Coalesce(Sum("grid__count__persons"), zero),
        **{name: Coalesce(Sum(f"tally__{name}"), zero) for name in TALLY_FIELDS},
    }
    return (
        CampaignAssignment.objects.filter(campaign=campaign, grid__in=grids.values("pk"))
        .annotate(
            tally=FilteredRelation(
                "grid__campaign_tallies", condition=Q(grid__campaign_tallies__campaign=campaign)
            )
        )
        .values("worker")
        .annotate(**sums)
        .annotate(
            left=F("households_total") - F("households_visited"),
            unseen=F("persons_expected") + F("persons_moved_out") - F("persons_screened"),
        )
        .order_by("-left", "-unseen", "worker")
    )


def worker_rows(sums: Sequence[dict[str, Any]]) -> list[Coverage]:
    """Coverage rows of :func:`worker_sums` rows (a page of them), ``workers`` holding the
    grid worker (loaded in one query)."""
    users = User.objects.in_bulk([row["worker"] for row in sums])
    rows = []
    for row in sums:
        cov = Coverage(workers=[users[row["worker"]]])
        cov.households_total = row["households_total"]
        for name in TALLY_FIELDS:
            setattr(cov, name, row[name])
        cov.persons_total = row["persons_expected"] + row["persons_moved_out"]
        rows.append(cov)
    return rows


def worker_coverage(
    campaign: Campaign, user: Any, *, under: OrgUnit | None = None
) -> list[Coverage]:
    """Every grid worker's row of :func:`worker_sums` (``unit`` is None; ``workers`` holds
    the worker): most households left first."""
    return worker_rows(list(worker_sums(campaign, user, under=under)))


@dataclass(frozen=True)
class TodoFilters:
    grid: OrgUnit | None = None  # one grid (else every grid in view)
    mine: bool = False  # only the grids given to the user in this campaign


def _todo_grids(campaign: Campaign, user: Any, f: TodoFilters) -> QuerySet[OrgUnit]:
    grids = grids_of(campaign, user, under=f.grid)
    if f.mine:
        grids = grids.filter(
            pk__in=CampaignAssignment.objects.filter(campaign=campaign, worker=user).values("grid")
        )
    return grids


def households_left(
    campaign: Campaign, user: Any, filters: TodoFilters | None = None
) -> QuerySet[Household]:
    """The households of the campaign nobody has answered at yet, by grid and address;
    ``campaign_status`` is "nobody_home" for those already tried, None for the others."""
    f = filters or TodoFilters()
    state = CampaignHousehold.objects.filter(campaign=campaign, household=OuterRef("pk"))
    return (
        Household.objects.filter(
            is_active=True, grid__in=_todo_grids(campaign, user, f).values("pk")
        )
        # NOT EXISTS, one index probe per household (NOT IN would first collect every
        # household visited in the whole campaign: 200,000 ids at a million persons).
        .exclude(
            Exists(
                CampaignHousehold.objects.filter(
                    campaign=campaign,
                    household=OuterRef("pk"),
                    status=CampaignHousehold.Status.VISITED,
                )
            )
        )
        .annotate(campaign_status=Subquery(state.values("status")[:1]))
        .select_related("grid")
        .order_by("grid__path", "address", "pk")
    )


def persons_never_seen(
    campaign: Campaign, user: Any, filters: TodoFilters | None = None
) -> QuerySet[Person]:
    """The persons of the campaign not screened yet (moved-out persons are not expected)."""
    f = filters or TodoFilters()
    return (
        Person.objects.filter(is_active=True, grid__in=_todo_grids(campaign, user, f).values("pk"))
        .exclude(status=Person.Status.MOVED_OUT)
        .exclude(Exists(Screening.objects.filter(campaign=campaign, person=OuterRef("pk"))))
        .select_related("grid", "household")
        .order_by("grid__path", "household__address", "name", "pk")
    )


def household_members(household: Household) -> QuerySet[Person]:
    """The people expected at the door: active members who have not moved out."""
    return (
        Person.objects.filter(household=household, is_active=True)
        .exclude(status=Person.Status.MOVED_OUT)
        .annotate(
            is_head=Case(When(relation=Person.Relation.HEAD, then=Value(0)), default=Value(1))
        )
        .order_by("is_head", "pk")
    )


def results_by_person(campaign: Campaign, persons: Sequence[Person]) -> dict[int, Screening]:
    return {
        s.person_id: s
        for s in Screening.objects.filter(campaign=campaign, person__in=[p.pk for p in persons])
    }


# ---------------------------------------------------------------------------------------------
# The ledger (排查台账)


@dataclass(frozen=True)
class LedgerFilters:
    q: str = ""  # part of the name, ID or phone
    campaign: Campaign | None = None
    unit: OrgUnit | None = None
    kind: str = ""
    category: str = ""
    key_only: bool = False
    urgent_only: bool = False
    late_only: bool = False
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def screenings_for(user: Any, filters: LedgerFilters | None = None) -> QuerySet[Screening]:
    """Screening results the user may see, newest first."""
    f = filters or LedgerFilters()
    qs = restrict_newest_first(Screening.objects.all(), user)
    if f.campaign is not None:
        qs = qs.filter(campaign=f.campaign)
    if f.unit is not None:
        qs = qs.filter(grid__path__startswith=f.unit.path)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.category:
        qs = qs.filter(category=f.category)
    if f.key_only:
        qs = qs.filter(is_key=True)
    if f.urgent_only:
        qs = qs.filter(is_urgent=True)
    if f.late_only:
        qs = qs.filter(late_registration=True)
    if f.date_from is not None:
        qs = qs.filter(screened_at__gte=_day_start(f.date_from))
    if f.date_to is not None:
        qs = qs.filter(screened_at__lt=_day_start(f.date_to + dt.timedelta(days=1)))
    if f.q:
        qs = qs.filter(person__in=substring_filter(Person.objects.all(), f.q).values("pk"))
    return qs.select_related(
        "person",
        "person__household",
        "household",
        "grid",
        "grid__parent",
        "from_region",
        "from_region__parent",
        "from_region__parent__parent",
        "campaign",
        "screened_by",
        "contact_person",
    ).order_by("-screened_at", "-pk")


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def screenings_of_person(person: Person) -> QuerySet[Screening]:
    return (
        Screening.objects.filter(person=person)
        .select_related("campaign", "from_region", "screened_by")
        .order_by("-screened_at", "-pk")
    )


# ---------------------------------------------------------------------------------------------
# Close contacts


@dataclass
class ContactNode:
    key: str  # "p<id>" for a person in the register, "n<link id>" for a name only
    label: str
    person_id: int | None
    depth: int
    visible: bool  # in the user's scope: named and linked; otherwise "someone elsewhere"


@dataclass
class ContactEdge:
    source: str  # the one met
    target: str  # the one who met them
    kind: str
    last_contact: dt.date | None


@dataclass
class ContactGraph:
    nodes: list[ContactNode]
    edges: list[ContactEdge]
    truncated: bool


@dataclass
class CampaignFigures:
    """A campaign's coverage in what the user may see, and in the grids given to the user."""

    all: Coverage
    mine: Coverage | None = None  # None when the user has no grid in the campaign


def campaigns_coverage(campaigns: Sequence[Campaign], user: Any) -> dict[int, CampaignFigures]:
    """Coverage (by campaign id) of each of ``campaigns`` in the user's view scope, and of the
    grids given to the user: four queries at most, whatever the number of campaigns, grids and
    households (the register's totals summed from the per-grid counts, what was done from the
    tallies, per campaign). Meant for a page of campaigns (20 or so)."""
    if not campaigns:
        return {}
    paths = {c.pk: c.unit.path for c in campaigns}
    within = Q(pk__in=[])
    for path in set(paths.values()):
        within |= Q(path__startswith=path)
    grids = restrict(
        OrgUnit.objects.filter(within, kind=OrgUnit.Kind.GRID, is_active=True),
        user,
        Perm.SCREENING_VIEW,
    ).values("pk")
    sums = {name: Sum(name) for name in TALLY_FIELDS}
    done = {
        row.pop("campaign"): row
        for row in CampaignTally.objects.filter(campaign__in=list(paths), grid__in=grids)
        .values("campaign")
        .annotate(**sums)
        .order_by()
    }
    mine_grids: dict[int, set[int]] = {}
    for campaign_id, grid_id in CampaignAssignment.objects.filter(
        campaign__in=list(paths), worker=user.pk, grid__in=grids
    ).values_list("campaign", "grid"):
        mine_grids.setdefault(campaign_id, set()).add(grid_id)
    done_mine: dict[int, dict[str, Any]] = {}
    if mine_grids:
        pairs = Q(pk__in=[])
        for campaign_id, grid_ids in mine_grids.items():
            pairs |= Q(campaign=campaign_id, grid__in=sorted(grid_ids))
        done_mine = {
            row.pop("campaign"): row
            for row in CampaignTally.objects.filter(pairs)
            .values("campaign")
            .annotate(**sums)
            .order_by()
        }

    # The register's totals of each campaign (and of the user's own grids in it), summed by
    # the database from the per-grid counts: one query for the whole page of campaigns.
    wanted: dict[str, Any] = {}
    for campaign_id, path in paths.items():
        inside = Q(grid__path__startswith=path)
        wanted[f"h{campaign_id}"] = Sum("households", filter=inside)
        wanted[f"p{campaign_id}"] = Sum("persons", filter=inside)
    for campaign_id, grid_ids in mine_grids.items():
        own = Q(grid__in=sorted(grid_ids))
        wanted[f"hm{campaign_id}"] = Sum("households", filter=own)
        wanted[f"pm{campaign_id}"] = Sum("persons", filter=own)
    register = GridCount.objects.filter(grid__in=grids).aggregate(**wanted)

    def figures(counts: dict[str, Any] | None, key: str) -> Coverage:
        cov = Coverage()
        cov.households_total = register[f"h{key}"] or 0
        cov.persons_total = register[f"p{key}"] or 0
        for name, value in (counts or {}).items():
            setattr(cov, name, value or 0)
        cov.persons_total += cov.persons_moved_out
        return cov

    result: dict[int, CampaignFigures] = {}
    for campaign in campaigns:
        entry = CampaignFigures(all=figures(done.get(campaign.pk), str(campaign.pk)))
        entry.all.unit = campaign.unit
        if campaign.pk in mine_grids:
            entry.mine = figures(done_mine.get(campaign.pk), f"m{campaign.pk}")
        result[campaign.pk] = entry
    return result


def assigned_grids(campaign: Campaign, worker: Any) -> QuerySet[OrgUnit]:
    """The grids of ``campaign`` given to ``worker``."""
    return OrgUnit.objects.filter(
        pk__in=CampaignAssignment.objects.filter(campaign=campaign, worker=worker).values("grid")
    )


def grid_worker_candidates(grid: OrgUnit) -> QuerySet[Any]:
    """The active users who may be given ``grid``: those holding the grid worker role on the
    grid or on a unit above it."""
    from fangkong.core.permissions import Role
    from fangkong.org.models import User

    parts = grid.path.strip("/").split("/")
    paths = ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]
    return (
        User.objects.filter(
            is_active=True,
            assignments__role=Role.GRID_WORKER,
            assignments__org_unit__path__in=paths,
        )
        .distinct()
        .order_by("username")
    )


def workers_by_grid(campaign: Campaign, grids: Sequence[OrgUnit]) -> dict[int, list[Any]]:
    """The workers given each of ``grids`` in ``campaign`` (one query)."""
    found: dict[int, list[Any]] = {g.pk: [] for g in grids}
    for assignment in (
        CampaignAssignment.objects.filter(campaign=campaign, grid__in=[g.pk for g in grids])
        .select_related("worker")
        .order_by("worker__username")
    ):
        found[assignment.grid_id].append(assignment.worker)
    return found


# ---------------------------------------------------------------------------------------------
# At the door


def household_state(campaign: Campaign, household: Household) -> CampaignHousehold | None:
    """Where ``household`` stands in ``campaign`` (None: not visited yet)."""
    return CampaignHousehold.objects.filter(campaign=campaign, household=household).first()


def household_results(campaign: Campaign, household: Household) -> QuerySet[Screening]:
    """The campaign's results recorded at ``household`` (moved-out members included)."""
    return (
        Screening.objects.filter(campaign=campaign, household=household)
        .select_related("person", "from_region")
        .order_by("person__relation", "person_id")
    )


def contact_graph(person: Person, user: Any, *, depth: int = 2, limit: int = 40) -> ContactGraph:
    """The chain of contacts around ``person``: who they met and who met them, then the same
    for those, up to ``depth`` steps and ``limit`` people, latest contact first (unknown dates
    last, on every database). People outside the user's scope appear without their name; a
    name-only contact is named only when the person who met them is in the user's scope (the
    name was recorded in that person's unit). Queries: one per step while there is someone
    to follow, and one for who is visible."""
    centre = f"p{person.pk}"
    nodes: dict[str, ContactNode] = {centre: ContactNode(centre, person.name, person.pk, 0, True)}
    met_by: dict[str, int] = {}  # name-only node -> the person who met them
    edges: list[ContactEdge] = []
    edge_keys: set[tuple[str, str]] = set()
    frontier = {person.pk}
    seen = {person.pk}
    truncated = False
    order = (F("last_contact").desc(nulls_last=True), "pk")
    for step in range(1, depth + 1):
        if not frontier:
            break
        links = (
            ContactLink.objects.filter(Q(person__in=frontier) | Q(source__in=frontier))
            .select_related("person", "source")
            .order_by(*order)[: limit * 4]
        )
        next_frontier: set[int] = set()
        for link in links:
            target = f"p{link.person_id}"
            source = f"p{link.source_id}" if link.source_id else f"n{link.pk}"
            new = [key for key in (target, source) if key not in nodes]
            if len(nodes) + len(new) > limit:
                truncated = True
                continue
            for key, other, name in (
                (target, link.person_id, link.person.name),
                (source, link.source_id, link.source.name if link.source else link.source_name),
            ):
                if key in nodes:
                    continue
                nodes[key] = ContactNode(key, name, other, step, False)
                if other is None:
                    met_by[key] = link.person_id
                elif other not in seen:
                    seen.add(other)
                    next_frontier.add(other)
            if (source, target) not in edge_keys:
                edge_keys.add((source, target))
                edges.append(ContactEdge(source, target, link.kind, link.last_contact))
        frontier = next_frontier
    ids = {n.person_id for n in nodes.values() if n.person_id is not None}
    visible = set(
        restrict(Person.objects.filter(pk__in=ids), user).values_list("pk", flat=True)
    ) | {person.pk}
    for node in nodes.values():
        owner = node.person_id if node.person_id is not None else met_by.get(node.key)
        node.visible = owner in visible
        if not node.visible:
            node.label = ""
    return ContactGraph(list(nodes.values()), edges, truncated)
