"""Roles and what each may do: one matrix, read by every check in the app.

A user holds one or more (role, org unit) assignments. A permission granted by a role applies
to the assigned unit's subtree; the system administrator's applies everywhere.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("System administrator")
    LEADER = "leader", _("Leader")
    OFFICE = "office", _("Office")
    UNIT_HEAD = "unit_head", _("Unit head")
    GRID_WORKER = "grid_worker", _("Grid worker")
    CHECKPOINT = "checkpoint", _("Checkpoint operator")
    AUDITOR = "auditor", _("Auditor")


class Perm(StrEnum):
    """Actions. Names read as '<area>.<verb>'."""

    REGISTER_VIEW = "register.view"  # see org units, households and persons (masked)
    REGISTER_EDIT = "register.edit"  # add and change households and persons
    PII_REVEAL = "pii.reveal"  # show a full ID or phone number (recorded)
    AUDIT_VIEW = "audit.view"  # see the audit trail of a record
    ORG_MANAGE = "org.manage"  # add and change org units
    USERS_MANAGE = "users.manage"  # add users and assignments
    RISK_AREAS_MANAGE = "risk_areas.manage"  # set and end the risk levels of regions
    SCREENING_VIEW = "screening.view"  # see campaigns, coverage and the screening ledger
    SCREENING_RECORD = "screening.record"  # screen households and persons, register arrivals
    SCREENING_MANAGE = "screening.manage"  # run campaigns, assign grids, set the rules
    OBSERVATION_VIEW = "observation.view"  # see episodes, readings, visits, needs, care visits
    # start observation, take temperatures, record follow-up visits, needs and care visits,
    # print the notice with the self-report link, reissue or revoke that link
    OBSERVATION_RECORD = "observation.record"
    # extend or shorten a period, release, refer, record a suspected or confirmed case
    OBSERVATION_DECIDE = "observation.decide"
    OBSERVATION_MANAGE = "observation.manage"  # the observation rules and period presets
    ALERTS_VIEW = "alerts.view"  # see the alerts inbox
    ALERTS_HANDLE = "alerts.handle"  # acknowledge and resolve alerts
    REPORTING_VIEW = "reporting.view"  # see daily reports, completeness and the branch report
    # file the daily report of one's unit (and, when the office turns them on, a grid's
    # sub-report)
    REPORTING_FILE = "reporting.file"
    REPORTING_REVIEW = "reporting.review"  # approve or return unit reports
    REPORTING_MANAGE = "reporting.manage"  # the report's indicators, deadline and rules
    REPORTING_APPROVE = "reporting.approve"  # approve the branch report (it is then sent)
    CHECKPOINTS_VIEW = "checkpoints.view"  # see the checkpoints and their entry log
    CHECKPOINTS_RECORD = "checkpoints.record"  # log people and vehicles at a checkpoint
    CHECKPOINTS_MANAGE = "checkpoints.manage"  # add and change checkpoints and their operators
    # see the duty roster, the pioneer posts, the disinfection and publicity records
    DUTY_VIEW = "duty.view"
    DUTY_RECORD = "duty.record"  # record disinfections and publicity done
    # set up posts, shifts, swaps, pioneer posts, places to disinfect and the duty rules
    DUTY_MANAGE = "duty.manage"


MATRIX: dict[Role, frozenset[Perm]] = {
    Role.ADMIN: frozenset(Perm),
    Role.LEADER: frozenset(
        {
            Perm.REGISTER_VIEW,
            Perm.AUDIT_VIEW,
            Perm.SCREENING_VIEW,
            Perm.OBSERVATION_VIEW,
            Perm.ALERTS_VIEW,
            Perm.REPORTING_VIEW,
            Perm.REPORTING_APPROVE,
            Perm.CHECKPOINTS_VIEW,
            Perm.DUTY_VIEW,
        }
    ),
    Role.OFFICE: frozenset(
        {
            Perm.REGISTER_VIEW,
            Perm.REGISTER_EDIT,
            Perm.PII_REVEAL,
            Perm.AUDIT_VIEW,
            Perm.ORG_MANAGE,
            Perm.USERS_MANAGE,
            Perm.RISK_AREAS_MANAGE,
            Perm.SCREENING_VIEW,
            Perm.SCREENING_RECORD,
            Perm.SCREENING_MANAGE,
            Perm.OBSERVATION_VIEW,
            Perm.OBSERVATION_RECORD,
            Perm.OBSERVATION_DECIDE,
            Perm.OBSERVATION_MANAGE,
            Perm.ALERTS_VIEW,
            Perm.ALERTS_HANDLE,
            Perm.REPORTING_VIEW,
            Perm.REPORTING_REVIEW,
            Perm.REPORTING_MANAGE,
            Perm.CHECKPOINTS_VIEW,
            Perm.CHECKPOINTS_RECORD,
            Perm.CHECKPOINTS_MANAGE,
            Perm.DUTY_VIEW,
            Perm.DUTY_RECORD,
            Perm.DUTY_MANAGE,
        }
    ),
    Role.UNIT_HEAD: frozenset(
        {
            Perm.REGISTER_VIEW,
            Perm.REGISTER_EDIT,
            Perm.PII_REVEAL,
            Perm.AUDIT_VIEW,
            Perm.SCREENING_VIEW,
            Perm.SCREENING_RECORD,
            Perm.OBSERVATION_VIEW,
            Perm.OBSERVATION_RECORD,
            Perm.OBSERVATION_DECIDE,
            Perm.ALERTS_VIEW,
            Perm.ALERTS_HANDLE,
            Perm.REPORTING_VIEW,
            Perm.REPORTING_FILE,
            Perm.CHECKPOINTS_VIEW,
            Perm.CHECKPOINTS_RECORD,
            Perm.DUTY_VIEW,
            Perm.DUTY_RECORD,
            Perm.DUTY_MANAGE,
        }
    ),
    Role.GRID_WORKER: frozenset(
        {
            Perm.REGISTER_VIEW,
            Perm.REGISTER_EDIT,
            Perm.PII_REVEAL,
            Perm.SCREENING_VIEW,
            Perm.SCREENING_RECORD,
            Perm.OBSERVATION_VIEW,
            Perm.OBSERVATION_RECORD,
            Perm.ALERTS_VIEW,
            Perm.ALERTS_HANDLE,
            Perm.REPORTING_VIEW,
            Perm.REPORTING_FILE,
            Perm.DUTY_VIEW,
            Perm.DUTY_RECORD,
        }
    ),
    Role.CHECKPOINT: frozenset(
        {
            Perm.REGISTER_VIEW,
            Perm.CHECKPOINTS_VIEW,
            Perm.CHECKPOINTS_RECORD,
            Perm.DUTY_VIEW,
            Perm.DUTY_RECORD,
        }
    ),
    Role.AUDITOR: frozenset(
        {
            Perm.REGISTER_VIEW,
            Perm.AUDIT_VIEW,
            Perm.SCREENING_VIEW,
            Perm.OBSERVATION_VIEW,
            Perm.ALERTS_VIEW,
            Perm.REPORTING_VIEW,
            Perm.CHECKPOINTS_VIEW,
            Perm.DUTY_VIEW,
        }
    ),
}


def role_has(role: str, perm: Perm) -> bool:
    return perm in MATRIX.get(Role(role), frozenset())
