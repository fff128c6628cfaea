"""一人一表 of an episode: the print-ready A4 page, the same as ``.xlsx``, and the
temperature chart as SVG. Whoever may see the episode may print it; numbers are masked."""

from __future__ import annotations

from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from fangkong.core.permissions import Perm
from fangkong.core.scoping import get_scoped_or_404
from fangkong.core.viewkit import AuthedRequest, requires, xlsx_response

from . import selectors
from .chart import temperature_chart
from .models import ObservationEpisode
from .sheet import build_sheet, column_headers, sheet_filename, write_sheet

SVG_CONTENT_TYPE = "image/svg+xml; charset=utf-8"


def _episode(request: AuthedRequest, episode_id: int) -> ObservationEpisode:
    return get_scoped_or_404(
        ObservationEpisode.objects.select_related(
            "person", "person__household", "person__grid", "person__grid__parent"
        ),
        request.user,
        episode_id,
    )


@require_GET
@requires(Perm.OBSERVATION_VIEW)
def sheet(request: AuthedRequest, episode_id: int) -> HttpResponse:
    episode = _episode(request, episode_id)
    form = build_sheet(episode)
    return render(
        request,
        "observation/sheet.html",
        {
            "episode": episode,
            "sheet": form,
            "headers": column_headers(),
            "chart": temperature_chart(form.days, form.threshold),
        },
    )


@require_GET
@requires(Perm.OBSERVATION_VIEW)
def sheet_xlsx(request: AuthedRequest, episode_id: int) -> HttpResponseBase:
    episode = _episode(request, episode_id)
    return xlsx_response(lambda file: write_sheet(file, episode), sheet_filename(episode))


@require_GET
@requires(Perm.OBSERVATION_VIEW)
def chart(request: AuthedRequest, episode_id: int) -> HttpResponse:
    episode = _episode(request, episode_id)
    days = selectors.episode_days(episode, today=timezone.localdate())
    svg = temperature_chart(days, selectors.current_rules().fever_threshold, standalone=True)
    response = HttpResponse(svg, content_type=SVG_CONTENT_TYPE)
    response["Content-Disposition"] = f'inline; filename="chart-{episode.pk}.svg"'
    return response
