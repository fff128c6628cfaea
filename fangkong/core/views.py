from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from fangkong.core.permissions import Perm
from fangkong.core.scoping import has_perm
from fangkong.org.selectors import home_counts

# Open campaigns shown on the home page (the newest; the rest are on the campaign list).
HOME_CAMPAIGNS = 5


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means "not healthy"
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


@dataclass(frozen=True)
class HomeCard:
    """One figure of the home page, linking to the list it counts."""

    label: str
    element_id: str
    value: int | str  # a count, or a state in words (today's report: "Submitted")
    url: str
    warn: bool = False  # shown in red when not zero
    detail: str = ""  # a line under the value

    @property
    def is_count(self) -> bool:
        return isinstance(self.value, int)


def _to_handle(user: Any) -> list[HomeCard]:
    """The alerts to handle and the observation figures of the user's scope, for the roles
    that see them (one query for the alerts, two for observation; the number under
    observation is among the register's figures)."""
    from fangkong.alerts.selectors import alert_counts
    from fangkong.observation.selectors import observation_counts

    cards: list[HomeCard] = []
    if has_perm(user, Perm.ALERTS_VIEW):
        alerts = alert_counts(user)
        inbox = reverse("alerts:inbox")
        cards += [
            HomeCard(
                _("Open alerts"),
                "count-alerts-open",
                alerts.open,
                f"{inbox}?status=open",
                warn=True,
            ),
            HomeCard(
                _("Acknowledged alerts"),
                "count-alerts-acknowledged",
                alerts.acknowledged,
                f"{inbox}?status=acknowledged",
            ),
            HomeCard(
                _("Escalated, not acknowledged"),
                "count-alerts-escalated",
                alerts.escalated,
                f"{inbox}?status=open&level=1",
                warn=True,
            ),
        ]
    if has_perm(user, Perm.OBSERVATION_VIEW):
        figures = observation_counts(user)
        ledger = reverse("observation:ledger")
        cards += [
            HomeCard(
                _("Due for release"),
                "count-episodes-due",
                figures.due_today,
                f"{ledger}?due_today=on",
            ),
            HomeCard(
                _("Fevers today"),
                "count-fevers-today",
                figures.fevers_today,
                f"{ledger}?fever_today=on",
                warn=True,
            ),
        ]
    if has_perm(user, Perm.REPORTING_VIEW):
        cards += _report_cards(user)
    return cards


def _report_cards(user: Any) -> list[HomeCard]:
    """Today's daily report: for a unit head, where their unit's report stands (one query);
    for the office and the leader, how many units have reported and how many are missing."""
    from fangkong.reporting.models import ReportStatus
    from fangkong.reporting.selectors import today_summary

    summary = today_summary(user)
    cards = []
    for mine in summary.mine:
        filed = mine.first_submitted_at is not None
        cards.append(
            HomeCard(
                _("Today's report: %(unit)s") % {"unit": mine.unit.name},
                f"report-today-{mine.unit.pk}",
                str(ReportStatus(mine.status).label) if filed else _("Not filed"),
                reverse("reporting:file", kwargs={"orgunit_id": mine.unit.pk}),
                warn=(not filed and mine.due) or mine.status == ReportStatus.RETURNED,
                detail=_("Due by %(time)s") % {"time": f"{mine.deadline:%H:%M}"},
            )
        )
    if summary.board is not None:
        board = summary.board
        reports = reverse("reporting:day")
        cards += [
            HomeCard(
                _("Daily reports received today"),
                "count-reports-received",
                board.received,
                reports,
                detail=_("of %(expected)d units") % {"expected": board.expected},
            ),
            HomeCard(
                _("Daily reports missing"),
                "count-reports-missing",
                board.missing,
                f"{reports}?status=missing",
                warn=True,
            ),
        ]
    return cards


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The figures of the user's scope, the alerts to handle and the observation figures, and
    the open campaigns with their coverage (for a grid worker, what is left in their own
    grids): a fixed number of queries, see fangkong/org/tests/test_query_budgets.py."""
    from fangkong.screening.models import Campaign
    from fangkong.screening.selectors import campaigns_coverage, campaigns_for

    context: dict[str, Any] = {
        "counts": home_counts(request.user),
        "to_handle": _to_handle(request.user),
    }
    if has_perm(request.user, Perm.SCREENING_VIEW):
        campaigns = list(
            campaigns_for(request.user, status=Campaign.Status.OPEN)[: HOME_CAMPAIGNS + 1]
        )
        more = len(campaigns) > HOME_CAMPAIGNS
        campaigns = campaigns[:HOME_CAMPAIGNS]
        figures = campaigns_coverage(campaigns, request.user)
        context["campaigns"] = [(c, figures[c.pk]) for c in campaigns]
        context["more_campaigns"] = more
    if has_perm(request.user, Perm.DUTY_VIEW):
        context.update(_on_duty(request.user))
    return render(request, "core/home.html", context)


# Posts listed under "on duty now" (the rest are on the roster).
HOME_POSTS = 8


def _on_duty(user: Any) -> dict[str, Any]:
    """Who is on duty now at the posts of the user's scope, with the leader on duty, and the
    user's own current or next shift (one query)."""
    from django.utils import timezone

    from fangkong.checkpoints.selectors.duty import on_duty_now

    now = timezone.now()
    on_duty = on_duty_now(user, now)
    return {
        "on_duty": on_duty,
        "on_duty_posts": on_duty.posts[:HOME_POSTS],
        "more_on_duty": max(0, len(on_duty.posts) - HOME_POSTS),
        "now": now,
    }
