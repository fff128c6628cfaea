"""Benchmarks of the register's Excel import and export, each against its floor.

Each measurement runs in a child process on an empty SQLite database in a temporary folder
(``SQLITE_PATH``), so that it neither touches nor depends on the database in use, and its
figures are not coloured by what the calling process already loaded.

``python -m fangkong.org.bench import 100000`` prints the import's figures as JSON (the
export's steps, ``export-seed``, ``export-run`` and ``export-floor``, are run by
:func:`bench_export`).
"""

from __future__ import annotations

import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# ---------------------------------------------------------------------------------------------
# Import


def bench_import(persons: int = 100_000, *, seed: int = 2020) -> dict[str, Any]:
    """Import ``persons`` new persons from an ``.xlsx`` roster into an empty SQLite database,
    and measure the floor: reading the same file with python-calamine plus one raw
    ``executemany`` inserting the same person rows.

    Returns the figures in seconds: ``preview`` and ``commit`` (each reads and checks the
    whole file; ``commit`` also writes the households, persons, their audit trail and their
    timeline events), ``import`` (the two together, what a user waits for), ``floor_read``,
    ``floor_insert`` and ``floor``, and the ratios ``commit_vs_floor`` and
    ``import_vs_floor``; the same ratios against a stricter floor whose insert fills the
    search index after the rows rather than row by row (``*_index_after``); with the
    file's size, rows and households.
    """
    with tempfile.TemporaryDirectory(prefix="fk-bench-import-") as folder:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "fangkong.settings",
            "SQLITE_PATH": str(Path(folder) / "import.sqlite3"),
            "DATABASE_URL": "",  # SQLite, even when the caller runs on PostgreSQL
            "IMPORT_MAX_ROWS": str(max(persons, 200_000)),
            "IMPORT_MAX_BYTES": str(1_000_000_000),
        }
        done = subprocess.run(
            [sys.executable, "-m", "fangkong.org.bench", "import", str(persons), folder, str(seed)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"bench_import failed:\n{done.stderr[-4000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result


def _import_in_child(persons: int, folder: Path, seed: int) -> dict[str, Any]:
    """The measurement itself, in the child process (Django set up on the empty database)."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from fangkong.org import imports

    call_command("migrate", verbosity=0)
    grids = _bench_grids(persons)
    path = folder / "roster.xlsx"
    started = time.perf_counter()
    households = _write_roster(path, grids, persons, seed)
    write_seconds = time.perf_counter() - started

    # The floors run on copies of the database as it is now (migrated, grids, no register).
    floor_db, deferred_db = folder / "floor.sqlite3", folder / "floor-deferred.sqlite3"
    with connection.cursor() as cursor:
        cursor.execute("VACUUM INTO %s", [str(floor_db)])
        cursor.execute("VACUUM INTO %s", [str(deferred_db)])
    floor_read, floor_insert = _floor(path, floor_db)
    _read, deferred_insert = _floor(path, deferred_db, defer_index=True)

    started = time.perf_counter()
    previewed = imports.preview(actor=None, source=path)
    preview_seconds = time.perf_counter() - started
    started = time.perf_counter()
    committed = imports.commit(actor=None, source=path)
    commit_seconds = time.perf_counter() - started
    if not committed.committed or committed.persons.created != persons:
        raise RuntimeError(f"the import did not create {persons} persons: {committed}")
    floor = floor_read + floor_insert
    strict = floor_read + deferred_insert
    figures = {
        "persons": persons,
        "households": households,
        "file_bytes": path.stat().st_size,
        "write_file": round(write_seconds, 3),
        "preview": round(preview_seconds, 3),
        "commit": round(commit_seconds, 3),
        "import": round(preview_seconds + commit_seconds, 3),
        "floor_read": round(floor_read, 3),
        "floor_insert": round(floor_insert, 3),
        "floor": round(floor, 3),
        "commit_vs_floor": round(commit_seconds / floor, 2),
        "import_vs_floor": round((preview_seconds + commit_seconds) / floor, 2),
        # The same insert with the search index filled after the rows, as the import does.
        "floor_insert_index_after": round(deferred_insert, 3),
        "commit_vs_floor_index_after": round(commit_seconds / strict, 2),
        "import_vs_floor_index_after": round((preview_seconds + commit_seconds) / strict, 2),
        "preview_problems": len(previewed.problems),
        # The child process's peak memory (writing the file, the floors, preview, commit).
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }
    return figures


def _bench_grids(persons: int) -> list[tuple[str, str]]:
    """The demo branch's units and grids (about 100 persons a grid), written in bulk: code
    and address prefix of each grid."""
    from django.utils import timezone

    from fangkong.core.bulk import BulkTable, next_id
    from fangkong.org import demo, services
    from fangkong.org.models import OrgUnit

    branch = services.create_org_unit(
        actor=None, code=demo.BRANCH_CODE, name=demo.BRANCH_NAME, kind=OrgUnit.Kind.BRANCH
    )
    units = [
        services.create_org_unit(
            actor=None, code=spec.code, name=spec.name, kind=OrgUnit.Kind.UNIT, parent=branch
        )
        for spec in demo.UNITS
    ]
    table = BulkTable(
        OrgUnit,
        ["id", "code", "name", "kind", "parent_id", "path", "depth"],
        history_date=timezone.now(),
        history_reason="bench",
    )
    pk = next_id(OrgUnit)
    rows = []
    grids = []
    for spec, unit, count in zip(
        demo.UNITS, units, demo.grids_per_unit(demo.grid_count(persons)), strict=True
    ):
        for n in range(1, count + 1):
            code = f"{unit.code}-{n:02d}"
            rows.append(
                (
                    pk,
                    code,
                    f"{spec.short}{demo.chinese_number(n)}网格",
                    OrgUnit.Kind.GRID.value,
                    unit.pk,
                    OrgUnit.child_path(unit.path, pk),
                    unit.depth + 1,
                )
            )
            grids.append((code, spec.address))
            pk += 1
    table.write(rows)
    return grids


def _write_roster(path: Path, grids: list[tuple[str, str]], persons: int, seed: int) -> int:
    """A roster of ``persons`` people as a user would fill the template (labels in Chinese,
    ID and phone numbers as text, birth dates as dates), drawn like the demo data. Returns
    the number of households."""
    import datetime as dt

    import xlsxwriter
    from django.utils import translation

    from fangkong.org import demo
    from fangkong.org.ledger import ROSTER_COLUMNS
    from fangkong.org.models import Person

    rng = random.Random(seed)
    drawer = demo.PopulationDrawer(rng)
    with translation.override("zh-hans"):
        headers = [str(c.header) for c in ROSTER_COLUMNS]
        relations = {value: str(label) for value, label in Person.Relation.choices}
        categories = {value: str(label) for value, label in Person.Category.choices}
        sexes = {True: str(Person.Sex.MALE.label), False: str(Person.Sex.FEMALE.label)}
    workbook = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "strings_to_numbers": False}
    )
    sheet = workbook.add_worksheet("人员名册")
    date = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, headers)
    made = households = 0
    row = 1
    per_grid = max(1, persons // len(grids))
    houses: dict[str, int] = {}
    while made < persons:
        code, prefix = grids[min(len(grids) - 1, made // per_grid)]
        house = houses[code] = houses.get(code, 0) + 1
        address = f"{prefix}{code[-2:]}区{house // 12 + 1}排{house % 12 + 1}号"
        members, _temporary = drawer.household()
        del members[persons - made :]
        household_phone = ""
        for member in members:
            birth = drawer.birth(member.age)
            id_number = drawer.id_number(member.region, birth, member.male)
            phone = drawer.phone() if drawer.has_phone(member) else ""
            household_phone = household_phone or phone
            values = (
                code,
                address,
                household_phone,
                member.surname + drawer.given_name(member.male, member.age),
                relations[member.relation],
                sexes[member.male],
                id_number,
                None,
                phone,
                categories[member.category],
                member.occupation,
                "",
            )
            for col, value in enumerate(values):
                if col == 7:
                    sheet.write_datetime(row, col, dt.date.fromordinal(birth), date)
                elif value:
                    sheet.write_string(row, col, value)
            row += 1
        households += 1
        made += len(members)
    workbook.close()
    return households


def _floor(path: Path, database: Path, *, defer_index: bool = False) -> tuple[float, float]:
    """Read ``path`` with python-calamine, then insert its rows as persons with one raw
    ``executemany`` (grid by code; no validation, history or timeline): the seconds of each.

    The table's search index (FTS5) is filled by its trigger row by row, or with
    ``defer_index`` after the rows, in one statement (as the import fills it)."""
    import datetime as dt

    from python_calamine import CalamineWorkbook

    started = time.perf_counter()
    workbook = CalamineWorkbook.from_path(str(path))
    rows = workbook.get_sheet_by_index(0).to_python()
    read = time.perf_counter() - started

    db = sqlite3.connect(str(database))
    grid_ids = dict(db.execute("SELECT code, id FROM org_orgunit WHERE kind = 'grid'").fetchall())
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
    started = time.perf_counter()
    values = [
        (
            r[3],
            r[5],
            r[6],
            r[7].isoformat() if isinstance(r[7], dt.date) else r[7],
            r[8],
            grid_ids[r[0]],
            r[4],
            r[9],
            "normal",
            r[10],
            r[11],
            True,
            f"{r[3]} {r[6]} {r[8]}",
            now,
            now,
        )
        for r in rows[1:]
    ]
    with db:
        if defer_index:
            trigger = db.execute(
                "SELECT sql FROM sqlite_master WHERE name = 'org_person_fts_ai'"
            ).fetchone()[0]
            db.execute("DROP TRIGGER org_person_fts_ai")
        db.executemany(
            "INSERT INTO org_person (name, sex, id_number, birth_date, phone, grid_id, "
            "relation, category, status, occupation, note, is_active, search_text, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            values,
        )
        if defer_index:
            db.execute(
                "INSERT INTO org_person_fts(rowid, search_text) SELECT id, search_text "
                "FROM org_person"
            )
            db.execute(trigger)
    insert = time.perf_counter() - started
    db.close()
    return read, insert


# ---------------------------------------------------------------------------------------------
# Export


def bench_export(persons: int = 100_000, *, seed: int = 2020) -> dict[str, Any]:
    """Export the person ledger of ``persons`` persons (the demo register, seeded into an
    empty SQLite database) as the operator does, masked; and measure the floor: XlsxWriter in
    constant-memory mode writing the same rows (read back from the export) from a list, and,
    for the choice of writer, openpyxl's write-only mode doing the same.

    The export and the floor each run in a process of their own, so that ``*_peak_mb`` is
    that process's own maximum resident set size (Django and the SQLite page cache included
    for the export; all the rows, held in a list, for the floor). Returns the seconds of
    ``seed`` (not measured against anything), ``export``, ``floor`` and ``floor_openpyxl``,
    the ratio ``export_vs_floor``, the peaks, the rows and the file's size.
    """
    with tempfile.TemporaryDirectory(prefix="fk-bench-export-") as name:
        folder = Path(name)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "fangkong.settings",
            "SQLITE_PATH": str(folder / "export.sqlite3"),
            "DATABASE_URL": "",  # SQLite, even when the caller runs on PostgreSQL
        }
        seeded, _peak = _export_child(["export-seed", str(persons), str(seed)], env)
        ledger = folder / "ledger.xlsx"
        exported, export_peak = _export_child(["export-run", str(ledger)], env)
        floor, floor_peak = _export_child(["export-floor", str(ledger), str(folder)], env)
        return {
            "persons": persons,
            "rows": exported["rows"],
            "file_bytes": ledger.stat().st_size,
            "seed": seeded["seconds"],
            "export": exported["seconds"],
            "floor": floor["seconds"],
            "floor_openpyxl": floor["openpyxl_seconds"],
            "export_vs_floor": round(exported["seconds"] / floor["seconds"], 2),
            "export_peak_mb": export_peak,
            "floor_peak_mb": floor_peak,
        }


def _export_child(args: list[str], env: dict[str, str]) -> tuple[dict[str, Any], float]:
    """Run ``python -m fangkong.org.bench ARGS``: its figures, and its peak memory in MB."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(
            [sys.executable, "-m", "fangkong.org.bench", *args], env=env, stdout=out, stderr=err
        )
        # wait4 reaps the child and reports its own peak memory (KiB on Linux).
        _pid, status, usage = os.wait4(child.pid, 0)
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status):
            raise RuntimeError(f"bench_export {args[0]} failed:\n{err.read().decode()[-4000:]}")
        figures: dict[str, Any] = json.loads(out.read().decode().strip().splitlines()[-1])
    return figures, round(usage.ru_maxrss / 1024, 1)


def _export_seed(persons: int, seed: int) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    call_command("seed_demo", persons=persons, seed=seed, verbosity=0)
    return {"seconds": round(time.perf_counter() - started, 3)}


def _export_run(path: Path) -> dict[str, Any]:
    import django

    django.setup()
    from fangkong.org import exports

    started = time.perf_counter()
    rows = exports.export_person_ledger(path, user=None, via="bench")
    return {"seconds": round(time.perf_counter() - started, 3), "rows": rows}


def _export_floor(path: Path, folder: Path) -> dict[str, Any]:
    """The same rows (the export read back) written from a list by XlsxWriter in
    constant-memory mode, and by openpyxl in write-only mode."""
    import xlsxwriter
    from openpyxl import Workbook
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    started = time.perf_counter()
    workbook = xlsxwriter.Workbook(
        str(folder / "floor.xlsx"),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "default_date_format": "yyyy-mm-dd",
        },
    )
    sheet = workbook.add_worksheet("floor")
    for index, row in enumerate(rows):
        sheet.write_row(index, 0, row)
    workbook.close()
    seconds = time.perf_counter() - started

    started = time.perf_counter()
    book = Workbook(write_only=True)
    other = book.create_sheet("floor")
    for row in rows:
        other.append(row)
    book.save(str(folder / "floor-openpyxl.xlsx"))
    openpyxl_seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 3), "openpyxl_seconds": round(openpyxl_seconds, 3)}


# ---------------------------------------------------------------------------------------------
# The child process


def main(argv: list[str]) -> int:
    """``python -m fangkong.org.bench import PERSONS FOLDER [SEED]``: print the figures."""
    if len(argv) >= 3 and argv[0] == "import":
        seed = int(argv[3]) if len(argv) > 3 else 2020
        print(json.dumps(_import_in_child(int(argv[1]), Path(argv[2]), seed)))
        return 0
    if len(argv) >= 2 and argv[0] in _EXPORT_STEPS:
        print(json.dumps(_EXPORT_STEPS[argv[0]](argv[1:])))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


_EXPORT_STEPS = {
    "export-seed": lambda args: _export_seed(int(args[0]), int(args[1])),
    "export-run": lambda args: _export_run(Path(args[0])),
    "export-floor": lambda args: _export_floor(Path(args[0]), Path(args[1])),
}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
