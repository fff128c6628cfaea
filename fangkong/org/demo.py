"""Demo data: a realistic branch with its units, grids, households and persons, one user per role.

The branch, its units and the users go through the services (a handful of rows). The grids,
households, persons, their "created" timeline events and their audit trail ("+" history records)
are written in bulk with precomputed values — ``executemany`` on SQLite, ``COPY`` on PostgreSQL —
so that a million persons load in a few minutes. The rows are complete as the services would leave
them: search text, grid, head of household, timeline and history. On SQLite the FTS5 search index
is kept in step by its insert triggers; on PostgreSQL the ``pg_trgm`` index is an ordinary index.

Everything is drawn from one ``random.Random(seed)``, and ages are counted at a fixed reference
date, so the same seed always gives the same people. Only the timestamps ("created at") differ.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fangkong.core import bulk
from fangkong.core.bulk import BulkTable, lock_tables, next_id, reset_sequences
from fangkong.core.permissions import Role
from fangkong.core.validators import id_check_character
from fangkong.org import services
from fangkong.org.models import (
    Household,
    OrgUnit,
    Person,
    TimelineEvent,
    User,
    household_search_text,
    person_search_text,
)

T = TypeVar("T")

DEFAULT_PERSONS = 4000
DEFAULT_SEED = 2020
# About the number of people one grid worker looks after (some 35–40 households).
PERSONS_PER_GRID = 100
# Ages are counted at this date (the time of the article), so a seed always gives the same data.
REFERENCE_DATE = dt.date(2020, 2, 1)
# One password for every demo user: 13 characters, four character classes.
DEMO_PASSWORD = "Fangkong#2020"
# Persons per bulk write: large enough for speed, small enough to keep memory flat.
CHUNK_PERSONS = 25_000

BRANCH_CODE = "LZ"
BRANCH_NAME = "亚盛股份临泽分公司"


@dataclass(frozen=True)
class UnitSpec:
    """One unit of the demo branch."""

    code: str
    name: str
    short: str  # in grid names: 一站一网格
    address: str  # start of addresses: 一站5排12号
    weight: int  # share of the grids (and so of the people)


UNITS: tuple[UnitSpec, ...] = (
    UnitSpec("LZ-01", "第一作业站", "一站", "一站", 9),
    UnitSpec("LZ-02", "第二作业站", "二站", "二站", 8),
    UnitSpec("LZ-03", "第三作业站", "三站", "三站", 8),
    UnitSpec("LZ-04", "第四作业站", "四站", "四站", 6),
    UnitSpec("LZ-05", "林果生产队", "林果队", "林果队", 5),
    UnitSpec("LZ-06", "农机修造车间", "机修车间", "机修家属院", 4),
)


@dataclass(frozen=True)
class DemoUser:
    """A demo login: one per role."""

    username: str
    role: str
    scope: str | None  # org unit code; None for the system administrator (everything)
    full_name: str


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", Role.ADMIN, None, "系统管理员"),
    DemoUser("leader", Role.LEADER, BRANCH_CODE, "马建军"),
    DemoUser("office", Role.OFFICE, BRANCH_CODE, "陈丽"),
    DemoUser("unit_head", Role.UNIT_HEAD, "LZ-01", "刘志强"),
    DemoUser("grid_worker", Role.GRID_WORKER, "LZ-01-01", "王芳"),
    DemoUser("checkpoint", Role.CHECKPOINT, "LZ-01", "孙海涛"),
    DemoUser("auditor", Role.AUDITOR, BRANCH_CODE, "杨帆"),
)

# The role names used on the ground (see DOMAIN.md), shown next to the English ones.
ROLE_NAMES_ZH: dict[str, str] = {
    Role.ADMIN: "系统管理员",
    Role.LEADER: "组长",
    Role.OFFICE: "办公室",
    Role.UNIT_HEAD: "单位负责人",
    Role.GRID_WORKER: "网格员",
    Role.CHECKPOINT: "检测点",
    Role.AUDITOR: "审计",
}


class DemoDataError(Exception):
    """The database cannot take the demo data (it already holds an organisation or users)."""


@dataclass
class SeedSummary:
    """What :func:`seed_demo` created."""

    units: int
    grids: int
    households: int
    persons: int
    without_id: int
    users: int
    seconds: float = 0.0


# ---------------------------------------------------------------------------------------------
# Sizes


def grid_count(persons: int) -> int:
    """Grids for ``persons`` people: one per ~100 people, at least one per unit (40 for 4,000)."""
    return max(len(UNITS), round(persons / PERSONS_PER_GRID))


def grids_per_unit(total: int) -> list[int]:
    """Split ``total`` grids over the units by weight: at least one each, largest remainder."""
    rest = total - len(UNITS)
    weights = [unit.weight for unit in UNITS]
    shares = [rest * w / sum(weights) for w in weights]
    counts = [int(share) for share in shares]
    by_remainder = sorted(range(len(UNITS)), key=lambda i: (counts[i] - shares[i], i))
    for i in by_remainder[: rest - sum(counts)]:
        counts[i] += 1
    return [count + 1 for count in counts]


_CN_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 12 → 十二, 40 → 四十; from 100 on, Arabic digits."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _CN_DIGITS[ones]
    return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")


# ---------------------------------------------------------------------------------------------
# People: names, regions, ID and phone numbers

_SURNAMES = (
    # Frequent in Gansu first (马, 魏, 何, 闫, 雷…), then the national list.
    ("张", 70), ("王", 68), ("李", 66), ("刘", 50), ("马", 38), ("陈", 34), ("杨", 32),
    ("赵", 24), ("何", 16), ("魏", 14), ("郭", 14), ("周", 14), ("吴", 13), ("徐", 12),
    ("孙", 12), ("胡", 12), ("朱", 11), ("高", 11), ("黄", 10), ("罗", 9), ("梁", 8),
    ("宋", 8), ("韩", 8), ("唐", 7), ("冯", 7), ("董", 7), ("闫", 7), ("雷", 7), ("丁", 6),
    ("任", 6), ("田", 6), ("汪", 6), ("贾", 6), ("安", 5), ("鲁", 5), ("段", 5), ("蒋", 5),
    ("程", 5), ("曹", 5), ("袁", 5), ("邓", 5), ("许", 5), ("吕", 5), ("苏", 5), ("付", 4),
    ("姚", 4), ("卢", 4), ("薛", 4), ("祁", 3), ("柴", 3), ("寇", 3), ("樊", 3), ("尚", 3),
    ("岳", 3), ("彭", 3), ("蔡", 3), ("沈", 3), ("曾", 3), ("谢", 3), ("郑", 3),
)  # fmt: skip

# Given-name characters by generation (born before 1965, 1965–1989, from 1990) and sex.
_GIVEN = {
    (0, True): "建国德福贵生山永春宝喜忠发成学武明有志树文海祥荣仁义",
    (0, False): "秀英桂兰玉珍凤琴芳花梅翠莲淑香素云霞菊",
    (1, True): "伟强磊军勇杰涛明超刚平辉鹏华飞斌波建峰亮东林海志兵新军",
    (1, False): "丽芳娟敏静燕玲霞红艳萍梅琳雪婷倩洁慧莉娜丹晶",
    (2, True): "子轩浩宇梓睿俊杰博文一鸣航思远皓天佑泽铭嘉豪晨阳宸毅",
    (2, False): "欣怡梓涵雨桐诗琪佳悦可馨子萱思语一诺婉晴静雅若妍",
}

# Where ID numbers were issued (GB/T 2260). Most residents are from Linze and Ganzhou.
_HOME_REGIONS = (
    ("620723", 50), ("620702", 18), ("620722", 4), ("620724", 4), ("620725", 3),
    ("620721", 1), ("620602", 2), ("620902", 2), ("620102", 2), ("620503", 1),
    ("621102", 2), ("620422", 1), ("622921", 1), ("620802", 1),
)  # fmt: skip
_OTHER_REGIONS = (
    ("640104", 3), ("630102", 2), ("610102", 2), ("410526", 3), ("510121", 2),
    ("130102", 1), ("370102", 1), ("420106", 1), ("650102", 2), ("150102", 1),
)  # fmt: skip
# Zhangye's counties had 6222xx codes until 2002; numbers issued then keep them for life.
_OLD_ZHANGYE = {
    "620723": "622224",
    "620702": "622201",
    "620722": "622223",
    "620721": "622222",
    "620724": "622225",
    "620725": "622226",
}
_PHONE_PREFIXES = (
    *range(130, 140), 150, 151, 152, 153, 155, 156, 157, 158, 159, 166, 173, 175, 176, 177,
    178, 180, 181, 182, 183, 185, 186, 187, 188, 189, 191, 198, 199,
)  # fmt: skip
# Household sizes 1–6 (mean about 2.65, as 4,000 people in 1,500 households).
_SIZES = ((1, 20), (2, 30), (3, 27), (4, 14), (5, 6), (6, 3))

_EMPLOYEE_JOBS = (
    ("农工", 40), ("职工", 14), ("机务人员", 8), ("技术员", 6), ("管理人员", 5),
    ("保管员", 3), ("农艺师", 2), ("司机", 3), ("门卫", 1),
)  # fmt: skip
_TEMPORARY_JOBS = (("季节工", 5), ("临时工", 4), ("采摘工", 2), ("农机手", 1))
_RESIDENT_JOBS = (("务农", 4), ("个体", 2), ("家务", 3), ("", 3))


def _weighted(pairs: Sequence[tuple[T, int]]) -> tuple[T, ...]:
    """A tuple where each value appears ``weight`` times: ``rng.choice`` then draws by weight."""
    return tuple(value for value, weight in pairs for _ in range(weight))


_HEAD, _SPOUSE, _CHILD, _PARENT, _SIBLING, _GRANDCHILD, _OTHER = (
    Person.Relation.HEAD.value,
    Person.Relation.SPOUSE.value,
    Person.Relation.CHILD.value,
    Person.Relation.PARENT.value,
    Person.Relation.SIBLING.value,
    Person.Relation.GRANDCHILD.value,
    Person.Relation.OTHER.value,
)
_RESIDENT, _EMPLOYEE, _TEMPORARY, _VISITOR = (
    Person.Category.RESIDENT.value,
    Person.Category.EMPLOYEE.value,
    Person.Category.TEMPORARY.value,
    Person.Category.VISITOR.value,
)


@dataclass(slots=True)
class Member:
    """A person drawn for a household, before their numbers are assigned."""

    relation: str
    male: bool
    age: int
    surname: str
    category: str = _RESIDENT
    occupation: str = ""
    region: str = ""


class PopulationDrawer:
    """Draws households and people; keeps every ID and phone number distinct."""

    def __init__(
        self,
        rng: random.Random,
        reference: dt.date = REFERENCE_DATE,
        sizes: Sequence[tuple[int, int]] = _SIZES,
    ) -> None:
        self.rng = rng
        self.reference = reference.toordinal()
        self.reference_year = reference.year
        self.id_numbers: set[int] = set()
        self.phones: set[int] = set()
        self._dates: dict[int, tuple[str, str, int]] = {}
        self._surnames = _weighted(_SURNAMES)
        self._home = _weighted(_HOME_REGIONS)
        self._other = _weighted(_OTHER_REGIONS)
        self._sizes = _weighted(sizes)
        self._employee_jobs = _weighted(_EMPLOYEE_JOBS)
        self._temporary_jobs = _weighted(_TEMPORARY_JOBS)
        self._resident_jobs = _weighted(_RESIDENT_JOBS)

    # Numbers

    def phone(self) -> str:
        """A mobile number not handed out before."""
        rng = self.rng
        while True:
            number = rng.choice(_PHONE_PREFIXES) * 100_000_000 + rng.randrange(100_000_000)
            if number not in self.phones:
                self.phones.add(number)
                return str(number)

    def birth(self, age: int) -> int:
        """The ordinal of a birth date ``age`` years (and some days) before the reference date."""
        return self.reference - int((age + self.rng.random()) * 365.2425) - 1

    def date_parts(self, ordinal: int) -> tuple[str, str, int]:
        """ISO date, YYYYMMDD and year of a date ordinal (cached: some 35,000 distinct)."""
        parts = self._dates.get(ordinal)
        if parts is None:
            day = dt.date.fromordinal(ordinal)
            parts = (day.isoformat(), f"{day:%Y%m%d}", day.year)
            self._dates[ordinal] = parts
        return parts

    def id_number(self, region: str, birth: int, male: bool) -> str:
        """A valid resident ID number (GB 11643) not handed out before."""
        _iso, ymd, year = self.date_parts(birth)
        if year < 1986:
            region = _OLD_ZHANGYE.get(region, region)
        rng = self.rng
        while True:
            # The 17th digit is odd for men, even for women.
            first17 = f"{region}{ymd}{rng.randrange(500) * 2 + male:03d}"
            key = int(first17)
            if key not in self.id_numbers:
                self.id_numbers.add(key)
                return first17 + id_check_character(first17)

    # Names

    def surname(self) -> str:
        """A surname, drawn by frequency."""
        return self.rng.choice(self._surnames)

    def given_name(self, male: bool, age: int) -> str:
        """One or two characters, in the fashion of the person's generation."""
        born = self.reference_year - age
        chars = _GIVEN[(0 if born < 1965 else 1 if born < 1990 else 2, male)]
        choice = self.rng.choice
        first = choice(chars)
        if self.rng.random() < 0.22:
            return first
        second = choice(chars)
        while second == first:
            second = choice(chars)
        return first + second

    def full_name(self, male: bool | None = None, age: int = 40) -> str:
        """Surname and given name; the sex is drawn when not given."""
        if male is None:
            male = self.rng.random() < 0.5
        return self.surname() + self.given_name(male, age)

    # Households

    def region(self, *, away: bool = False) -> str:
        """A region code where an ID number was issued: mostly Zhangye, ``away`` elsewhere."""
        return self.rng.choice(self._other if away else self._home)

    def household(self) -> tuple[list[Member], bool]:
        """The members of one household (head first) and whether they are temporary workers."""
        rng = self.rng
        randint = rng.randint
        temporary = rng.random() < 0.07
        size = rng.choice(self._sizes)
        if temporary:
            size = min(size, 2)
        home = self.region(away=temporary and rng.random() < 0.6)
        head_male = rng.random() < (0.75 if temporary else 0.85)
        if temporary:
            head_age = randint(20, 55)
        elif size == 1:
            head_age = randint(22, 85)
        elif size <= 3:
            head_age = randint(25, 72)
        else:
            head_age = randint(32, 62)
        head = Member(_HEAD, head_male, head_age, self.surname(), region=home)
        members = [head]
        left = size - 1
        younger = head_age
        if left and rng.random() < 0.9:
            age = head_age + (randint(-6, 2) if head_male else randint(-2, 6))
            age = min(max(age, 18), 95)
            spouse_region = home if rng.random() < 0.7 else self.region()
            members.append(
                Member(_SPOUSE, not head_male, age, self.surname(), region=spouse_region)
            )
            younger = min(younger, age)
            left -= 1
        family = head.surname if head_male or len(members) == 1 else members[1].surname
        if left and head_age <= 52 and rng.random() < (0.45 if left >= 3 else 0.15):
            father = head_age + randint(22, 32)
            mother = father - randint(0, 5)
            wanted = 2 if left >= 3 and rng.random() < 0.6 else 1
            for male, age in [(True, father), (False, mother)][:wanted]:
                if age <= 95:
                    surname = head.surname if male else self.surname()
                    members.append(Member(_PARENT, male, age, surname, region=home))
                    left -= 1
        child_age = younger - randint(22, 32)
        eldest = child_age
        most_children = (1 + (rng.random() < 0.3)) if head_age >= 55 else 6
        children = 0
        for _i in range(left):
            male = rng.random() < 0.52
            if child_age >= 0 and children < most_children:
                members.append(Member(_CHILD, male, child_age, family, region=home))
                children += 1
                child_age -= randint(1, 6)
                continue
            grandchild_age = eldest - randint(22, 30) - randint(0, 6)
            if children and grandchild_age >= 0:
                members.append(Member(_GRANDCHILD, male, grandchild_age, family, region=home))
            else:
                age = min(max(head_age + randint(-8, 8), 16), 90)
                members.append(Member(_SIBLING, male, age, head.surname, region=home))
        if len(members) >= 3 and rng.random() < 0.05:
            # A relative visiting for the New Year stays on the register as a visitor.
            visitor = Member(
                _OTHER,
                rng.random() < 0.5,
                randint(18, 70),
                self.surname(),
                category=_VISITOR,
                region=self.region(away=rng.random() < 0.5),
            )
            members[-1] = visitor
        for member in members:
            if member.category != _VISITOR:
                self._occupy(member, temporary)
        return members, temporary

    def _occupy(self, member: Member, temporary: bool) -> None:
        """Category and occupation from age and household."""
        age = member.age
        if temporary and age >= 16:
            member.category = _TEMPORARY
            member.occupation = self.rng.choice(self._temporary_jobs)
        elif 18 <= age < (60 if member.male else 55):
            roll = self.rng.random()
            if roll < 0.6:
                member.category = _EMPLOYEE
                member.occupation = self.rng.choice(self._employee_jobs)
            elif roll < 0.7:
                member.category = _TEMPORARY
                member.occupation = self.rng.choice(self._temporary_jobs)
            else:
                member.occupation = self.rng.choice(self._resident_jobs)
        elif 7 <= age < 19:
            member.occupation = "学生"
        elif age >= 55:
            member.occupation = "退休" if self.rng.random() < 0.6 else ""

    def has_id(self, member: Member) -> bool:
        """Visitors and children sometimes have no ID number on the register."""
        if member.category == _VISITOR:
            return self.rng.random() >= 0.3
        if member.age < 16:
            return self.rng.random() >= 0.12
        return True

    def has_phone(self, member: Member) -> bool:
        """Most adults give a mobile number; young children and many old people do not."""
        age = member.age
        if member.category == _VISITOR:
            return self.rng.random() < 0.8
        if age < 12:
            return False
        if age < 16:
            return self.rng.random() < 0.1
        if age < 70:
            return self.rng.random() < 0.93
        return self.rng.random() < 0.45


# ---------------------------------------------------------------------------------------------
# Bulk writing (fangkong.core.bulk)


def _lock_tables() -> None:
    """On PostgreSQL keep other writers out of the tables we number ourselves."""
    lock_tables(OrgUnit, Household, Person)


def analyze() -> None:
    """Refresh the planner statistics of the tables just filled."""
    bulk.analyze(
        (
            OrgUnit,
            Household,
            Person,
            TimelineEvent,
            *(model.history.model for model in (OrgUnit, Household, Person)),
        )
    )


# ---------------------------------------------------------------------------------------------
# Seeding


@dataclass
class _Grid:
    pk: int
    unit_index: int
    houses: int = 0
    first_row: int = 0


def seed_demo(
    *,
    persons: int = DEFAULT_PERSONS,
    seed: int = DEFAULT_SEED,
    progress: Callable[[str], None] | None = None,
    household_sizes: Sequence[tuple[int, int]] = _SIZES,
) -> SeedSummary:
    """Fill an empty database with the demo branch, its register and the demo users.
    ``household_sizes`` (size, weight) pairs draw the households' sizes (the benchmarks ask
    for larger households than the demo's 2.6 persons on average).

    Raises :class:`DemoDataError` when the database already holds an organisation, a register
    or one of the demo user names. One transaction: either everything is created or nothing.
    """
    if persons < 1:
        raise DemoDataError(_("Give at least one person."))
    started = time.monotonic()
    say = progress or (lambda message: None)
    rng = random.Random(seed)
    drawer = PopulationDrawer(rng, sizes=household_sizes)
    with transaction.atomic():
        _lock_tables()
        if OrgUnit.objects.exists() or Household.objects.exists() or Person.objects.exists():
            raise DemoDataError(
                _("The database already holds an organisation; demo data goes into an empty one.")
            )
        taken = sorted(
            User.objects.filter(username__in=[u.username for u in DEMO_USERS]).values_list(
                "username", flat=True
            )
        )
        if taken:
            raise DemoDataError(
                _("These demo user names are taken: %(names)s.") % {"names": ", ".join(taken)}
            )
        now = timezone.now()
        leaders = {u.scope: u for u in DEMO_USERS if u.role in (Role.LEADER, Role.UNIT_HEAD)}
        phones = {u.username: drawer.phone() for u in DEMO_USERS}
        branch, units = _create_units(drawer, leaders, phones)
        say(
            _("Organisation: %(branch)s and %(count)d units.")
            % {"branch": branch, "count": len(units)}
        )
        grids = _create_grids(drawer, units, grid_count(persons), now, phones)
        say(_("%(count)d grids.") % {"count": len(grids)})
        _create_users(phones)
        say(_("%(count)d demo users.") % {"count": len(DEMO_USERS)})
        households, without_id = _populate(drawer, grids, persons, now, say)
        reset_sequences(OrgUnit, Household, Person)
        services.refresh_grid_counts()
    summary = SeedSummary(
        units=len(units),
        grids=len(grids),
        households=households,
        persons=persons,
        without_id=without_id,
        users=len(DEMO_USERS),
    )
    analyze()
    summary.seconds = time.monotonic() - started
    return summary


def _create_units(
    drawer: PopulationDrawer, leaders: dict[str | None, DemoUser], phones: dict[str, str]
) -> tuple[OrgUnit, list[OrgUnit]]:
    """The branch and its units, through the service (validated, with their history)."""
    leader = leaders[BRANCH_CODE]
    branch = services.create_org_unit(
        actor=None,
        code=BRANCH_CODE,
        name=BRANCH_NAME,
        kind=OrgUnit.Kind.BRANCH,
        responsible=leader.full_name,
        responsible_phone=phones[leader.username],
    )
    units = []
    for spec in UNITS:
        head = leaders.get(spec.code)
        units.append(
            services.create_org_unit(
                actor=None,
                code=spec.code,
                name=spec.name,
                kind=OrgUnit.Kind.UNIT,
                parent=branch,
                responsible=head.full_name if head else drawer.full_name(True),
                responsible_phone=phones[head.username] if head else drawer.phone(),
            )
        )
    return branch, units


def _create_grids(
    drawer: PopulationDrawer,
    units: list[OrgUnit],
    total: int,
    now: dt.datetime,
    phones: dict[str, str],
) -> list[_Grid]:
    """The grids, in bulk: codes LZ-01-01…, names 一站一网格…, one responsible worker each."""
    table = BulkTable(
        OrgUnit,
        [
            "id",
            "code",
            "name",
            "kind",
            "parent_id",
            "path",
            "depth",
            "responsible",
            "responsible_phone",
        ],
        history_date=now,
        history_reason=_("demo data"),
    )
    worker = next(u for u in DEMO_USERS if u.role == Role.GRID_WORKER)
    pk = next_id(OrgUnit)
    grids: list[_Grid] = []
    rows: list[tuple[Any, ...]] = []
    for unit_index, (spec, unit, count) in enumerate(
        zip(UNITS, units, grids_per_unit(total), strict=True)
    ):
        for n in range(1, count + 1):
            code = f"{unit.code}-{n:02d}"  # LZ-01-01 … LZ-01-99, LZ-01-100 …
            if code == worker.scope:
                responsible, phone = worker.full_name, phones[worker.username]
            else:
                responsible, phone = drawer.full_name(), drawer.phone()
            rows.append(
                (
                    pk,
                    code,
                    f"{spec.short}{chinese_number(n)}网格",
                    OrgUnit.Kind.GRID.value,
                    unit.pk,
                    OrgUnit.child_path(unit.path, pk),
                    unit.depth + 1,
                    responsible,
                    phone,
                )
            )
            grids.append(_Grid(pk=pk, unit_index=unit_index))
            pk += 1
    table.write(rows)
    return grids


def _create_users(phones: dict[str, str]) -> None:
    """One user per role, through the service (password rules, role assignment, history)."""
    codes = {u.scope for u in DEMO_USERS if u.scope}
    scopes = {unit.code: unit for unit in OrgUnit.objects.filter(code__in=codes)}
    for demo in DEMO_USERS:
        services.create_user(
            username=demo.username,
            password=DEMO_PASSWORD,
            role=demo.role,
            org_unit=scopes[demo.scope] if demo.scope else None,
            full_name=demo.full_name,
            phone=phones[demo.username],
        )


_HOUSES_PER_ROW = 12


def _populate(
    drawer: PopulationDrawer,
    grids: list[_Grid],
    total: int,
    now: dt.datetime,
    say: Callable[[str], None],
) -> tuple[int, int]:
    """Households and persons in bulk, with their timeline and history. Returns the counts of
    households and of persons without an ID number."""
    reason = _("demo data")
    households = BulkTable(
        Household,
        ["id", "grid_id", "address", "head_id", "phone", "search_text"],
        constants={"created_at": now, "updated_at": now},
        history_date=now,
        history_reason=reason,
    )
    people = BulkTable(
        Person,
        [
            "id",
            "name",
            "sex",
            "id_number",
            "birth_date",
            "phone",
            "grid_id",
            "household_id",
            "relation",
            "category",
            "occupation",
            "search_text",
        ],
        constants={"created_at": now, "updated_at": now},
        history_date=now,
        history_reason=reason,
    )
    timeline = BulkTable(
        TimelineEvent,
        ["person_id", "summary", "data"],
        constants={"occurred_at": now, "kind": "created", "actor_id": None},
    )
    # The summary the service writes for a person added with source "demo data".
    created = _("Added to the register") + f" ({reason})"
    created_without_id = created + _(": no ID number")
    source = json.dumps(reason)

    household_pk = next_id(Household)
    person_pk = next_id(Person)
    unit_rows = [0] * len(UNITS)
    household_rows: list[tuple[Any, ...]] = []
    person_rows: list[tuple[Any, ...]] = []
    event_rows: list[tuple[Any, ...]] = []
    without_id = made = 0
    grid_total = len(grids)
    current: _Grid | None = None
    started = time.monotonic()
    reported = 0

    def flush() -> None:
        households.write(household_rows)
        people.write(person_rows)
        timeline.write(event_rows)
        household_rows.clear()
        person_rows.clear()
        event_rows.clear()

    while made < total:
        grid = grids[min(grid_total - 1, made * grid_total // total)]
        if grid is not current:
            grid.first_row = unit_rows[grid.unit_index]
            current = grid
        row, number = divmod(grid.houses, _HOUSES_PER_ROW)
        row += grid.first_row + 1
        unit_rows[grid.unit_index] = row
        grid.houses += 1
        address = f"{UNITS[grid.unit_index].address}{row}排{number + 1}号"
        members, _temporary = drawer.household()
        del members[total - made :]
        household_phone = ""
        head_pk = person_pk
        for member in members:
            male = member.male
            name = member.surname + drawer.given_name(male, member.age)
            birth_ordinal = drawer.birth(member.age)
            if drawer.has_id(member):
                id_number = drawer.id_number(member.region, birth_ordinal, male)
                summary = created
            else:
                id_number = ""
                summary = created_without_id
                without_id += 1
            birth_date: str | None = drawer.date_parts(birth_ordinal)[0]
            if not id_number and member.category == _VISITOR:
                birth_date = None  # a visitor without papers: only the age is known, roughly
            phone = drawer.phone() if drawer.has_phone(member) else ""
            if phone and not household_phone:
                household_phone = phone
            person_rows.append(
                (
                    person_pk,
                    name,
                    "M" if male else "F",
                    id_number,
                    birth_date,
                    phone,
                    grid.pk,
                    household_pk,
                    member.relation,
                    member.category,
                    member.occupation,
                    person_search_text(name, id_number, phone),
                )
            )
            event_rows.append(
                (
                    person_pk,
                    summary,
                    f'{{"household": {household_pk}, "grid": {grid.pk}, "source": {source}}}',
                )
            )
            person_pk += 1
        household_rows.append(
            (
                household_pk,
                grid.pk,
                address,
                head_pk,
                household_phone,
                household_search_text(address, household_phone),
            )
        )
        household_pk += 1
        made += len(members)
        if len(person_rows) >= CHUNK_PERSONS:
            flush()
            if made - reported >= 100_000:
                reported = made
                say(
                    _("%(made)s of %(total)s persons (%(seconds).0f s)")
                    % {
                        "made": f"{made:,}",
                        "total": f"{total:,}",
                        "seconds": time.monotonic() - started,
                    }
                )
    flush()
    return households.written, without_id


# ---------------------------------------------------------------------------------------------
# The logins table


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def logins_table() -> str:
    """The demo logins present in the database: user name, role, scope and password."""
    users = {
        u.username: u for u in User.objects.filter(username__in=[d.username for d in DEMO_USERS])
    }
    units = {
        unit.code: unit
        for unit in OrgUnit.objects.filter(code__in=[d.scope for d in DEMO_USERS if d.scope])
    }
    if not users:
        return _("No demo users in this database.")
    rows = [("用户名 username", "角色 role", "范围 scope", "密码 password")]
    for demo in DEMO_USERS:
        if demo.username not in users:
            continue
        with translation.override("en"):
            english = str(Role(demo.role).label)
        unit = units.get(demo.scope) if demo.scope else None
        if demo.scope is None:
            scope = "全部 everything"
        elif unit is not None:
            scope = f"{unit.name} ({unit.code})"
        else:
            scope = demo.scope
        rows.append((demo.username, f"{ROLE_NAMES_ZH[demo.role]} {english}", scope, DEMO_PASSWORD))
    widths = [max(_width(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)
