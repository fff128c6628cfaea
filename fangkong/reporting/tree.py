"""Which org units file a daily report, and which report each record of the register counts
for.

Every active org unit of kind *unit* files one report a day. A record (a person, an alert…)
belongs to an org unit — usually a grid — and counts for the nearest unit at or above it: a
unit nested in another unit reports its own grids, never its parent's. With grid sub-reports
on, a grid also reports, for its whole subtree. The tree is read in one query."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from django.db.models import Q

from fangkong.org.models import OrgUnit

Kind = OrgUnit.Kind


class Target(Protocol):
    pk: int
    kind: str
    path: str


@dataclass(frozen=True)
class Node:
    pk: int
    code: str
    name: str
    kind: str
    path: str
    parent_id: int | None


@dataclass
class Tree:
    """The active org units (of some subtrees) by id, and the members of each unit."""

    nodes: dict[int, Node] = field(default_factory=dict)
    unit_of: dict[int, int] = field(default_factory=dict)  # org unit → its reporting unit
    # org unit → the outermost grid it is in (a grid not inside another grid), or itself
    block_of: dict[int, int] = field(default_factory=dict)
    _members: dict[int, list[int]] = field(default_factory=dict)

    @classmethod
    def load(cls, under: Iterable[Target] | None = None) -> Tree:
        """The tree of the whole organisation, or of the subtrees of ``under`` (the units
        whose reports are wanted: the units above them are not needed)."""
        units = OrgUnit.objects.filter(is_active=True)
        if under is not None:
            paths = {unit.path for unit in under}
            if not paths:
                return cls()
            condition = Q()
            for path in paths:
                condition |= Q(path__startswith=path)
            units = units.filter(condition)
        tree = cls()
        rows = units.order_by("path").values_list("pk", "code", "name", "kind", "path", "parent_id")
        for pk, code, name, kind, path, parent_id in rows:
            tree.nodes[pk] = Node(pk, code, name, kind, path, parent_id)
        members: dict[int, list[int]] = defaultdict(list)
        for node in tree.nodes.values():  # by path: a parent comes before its children
            parent = tree.nodes.get(node.parent_id) if node.parent_id is not None else None
            if node.kind == Kind.GRID and parent is not None and parent.kind == Kind.GRID:
                tree.block_of[node.pk] = tree.block_of[parent.pk]
            else:
                tree.block_of[node.pk] = node.pk
            if node.kind == Kind.UNIT:
                tree.unit_of[node.pk] = node.pk
            elif node.parent_id is not None and node.parent_id in tree.unit_of:
                tree.unit_of[node.pk] = tree.unit_of[node.parent_id]
            else:
                continue
            members[tree.unit_of[node.pk]].append(node.pk)
        tree._members = dict(members)
        return tree

    def members(self, target: Target) -> list[int]:
        """The org units whose records count for ``target``'s report: for a unit, those whose
        nearest unit it is (itself included); for a grid (a sub-report), its subtree."""
        if target.kind == Kind.UNIT:
            return list(self._members.get(target.pk, []))
        return [pk for pk, node in self.nodes.items() if node.path.startswith(target.path)]

    def blocks(self, unit: Target) -> dict[int, list[int]]:
        """``unit``'s members grouped by the outermost grid they are in (the grids that file
        sub-reports to the unit); a member outside every grid (the unit itself) is alone."""
        result: dict[int, list[int]] = defaultdict(list)
        for pk in self.members(unit):
            result[self.block_of[pk]].append(pk)
        return dict(result)
