"""The public self-report page (/r/<token>/): the person under observation opens the link of
their notice on a phone, without an account, and reports their temperature and symptoms or
asks for help. Always in Chinese, whatever the browser asks for.

What it shows is the least the person needs: their given name, today's date, the last day of
their period, the form. :func:`services.self_report` records (the timeline, the audit trail,
the alert for a fever) and refuses; the answer's status says why:

- 404: no such link (and nothing else is said); an address that has sent
  ``BAD_TOKEN_LIMIT`` unknown links within ``BAD_TOKEN_WINDOW`` seconds gets 429 for every link
  until the window ends, so that links cannot be guessed;
- 410: the link was revoked or replaced, or the observation has ended;
- 403: the observation has not started yet;
- 429: more submissions in the last hour than the rules allow;
- 422: the form with the field's message (an implausible temperature, an unknown symptom…).

Every answer is ``no-store`` and ``noindex``, and its referrer policy is ``same-origin``: the
URL holds the token, and no request to another site carries it. (Not ``no-referrer``: under
that policy a browser sends ``Origin: null`` with the form's POST, and Django's CSRF check
refuses it.)"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from fangkong.core.health import symptom_labels

from . import services
from .forms_selfreport import SERVICE_FIELDS, SelfReportForm
from .models import Need, ObservationEpisode, SelfReportLink, TemperatureReading

LANGUAGE = "zh-hans"
BAD_TOKEN_LIMIT = 20
BAD_TOKEN_WINDOW = 10 * 60  # seconds
TOKEN_MAX = 64
REFERRER_POLICY = "same-origin"

# Compound surnames: the given name is what follows them.
COMPOUND_SURNAMES = (
    "欧阳",
    "司马",
    "上官",
    "诸葛",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "长孙",
    "宇文",
    "司徒",
    "夏侯",
    "令狐",
    "西门",
    "澹台",
    "独孤",
    "端木",
    "轩辕",
    "呼延",
)


def given_name(name: str) -> str:
    """What the page calls the person: the given name only (张小明 → 小明, 欧阳娜娜 → 娜娜,
    Anna Li → Anna), so that a link seen by someone else does not name them in full."""
    name = (name or "").strip()
    if not name:
        return ""
    if " " in name or name.isascii():
        return name.split()[0]
    for surname in COMPOUND_SURNAMES:
        if name.startswith(surname) and len(name) > len(surname):
            return name[len(surname) :]
    return name[1:] if len(name) > 1 else name


def _address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _bad_key(request: HttpRequest) -> str:
    return f"selfreport:bad-token:{_address(request)}"


def _guessing(request: HttpRequest) -> bool:
    return int(cache.get(_bad_key(request), 0)) >= BAD_TOKEN_LIMIT


def _count_bad_token(request: HttpRequest) -> None:
    key = _bad_key(request)
    if cache.add(key, 1, BAD_TOKEN_WINDOW):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired in between
        cache.set(key, 1, BAD_TOKEN_WINDOW)


def _private(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)
    response["Referrer-Policy"] = REFERRER_POLICY
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Content-Language"] = LANGUAGE
    return response


def _refusal_status(token: str, now: dt.datetime) -> int:
    """Why ``usable_link`` refused ``token``, as an HTTP status (same order of checks)."""
    link = (
        SelfReportLink.objects.select_related("episode").filter(token=token).first()
        if token and len(token) <= TOKEN_MAX
        else None
    )
    if link is None:
        return 404
    episode = link.episode
    today = timezone.localdate(now)
    if link.revoked_at is not None:
        return 410
    if episode.status != ObservationEpisode.Status.ACTIVE or today > episode.planned_end:
        return 410
    return 403


def _refused(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(
        request,
        "observation/selfreport_refused.html",
        {"message": message, "status": status},
        status=status,
    )


def _refusal(
    request: HttpRequest, token: str, refusal: services.LinkRefused, now: dt.datetime
) -> HttpResponse:
    if isinstance(refusal, services.RateLimited):
        return _refused(request, str(refusal), 429)
    status = _refusal_status(token, now)
    if status == 404:
        _count_bad_token(request)
    return _refused(request, str(refusal), status)


def _too_many_guesses(request: HttpRequest) -> HttpResponse:
    return _refused(
        request,
        _(
            "Too many wrong links were opened from this network. Wait ten minutes and try "
            "again, or call your grid worker."
        ),
        429,
    )


def _apply_errors(form: SelfReportForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            name = SERVICE_FIELDS.get(name, name)
            form.add_error(name if name in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


@require_http_methods(["GET", "POST"])
def report(request: HttpRequest, token: str) -> HttpResponse:
    """The form (GET) and the submission (POST, then to the thank-you page)."""
    with translation.override(LANGUAGE):
        return _private(_report(request, token))


def _report(request: HttpRequest, token: str) -> HttpResponse:
    if _guessing(request):
        return _too_many_guesses(request)
    now = timezone.now()
    try:
        link = services.usable_link(token, now)
    except services.LinkRefused as refusal:
        return _refusal(request, token, refusal, now)
    form = SelfReportForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            result = services.self_report(
                token=token,
                value=data["value"],
                symptoms=data["symptoms"],
                need_kind=data["need_kind"] or "",
                need_text=data["need_text"],
            )
        except services.LinkRefused as refusal:
            return _refusal(request, token, refusal, timezone.now())
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            query = "&".join(
                f"{name}={obj.pk}"
                for name, obj in (("reading", result.reading), ("need", result.need))
                if obj is not None
            )
            url = reverse("selfreport:thanks", kwargs={"token": token})
            return redirect(f"{url}?{query}" if query else url)
    episode = link.episode
    context: dict[str, Any] = {
        "form": form,
        "name": given_name(episode.person.name),
        "today": timezone.localdate(now),
        "last_day": episode.planned_end,
        "help_open": bool(form["need_kind"].value() or form["need_text"].value())
        or bool(form.errors.get("need_kind") or form.errors.get("need_text")),
    }
    status = 422 if form.errors else 200
    return render(request, "observation/selfreport.html", context, status=status)


def _pk(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None


@require_GET
def thanks(request: HttpRequest, token: str) -> HttpResponse:
    """What was recorded (the reading and the need named in the query, if they came from
    this link), and whether someone will call: a fever or a symptom raises an alert."""
    with translation.override(LANGUAGE):
        return _private(_thanks(request, token))


def _thanks(request: HttpRequest, token: str) -> HttpResponse:
    if _guessing(request):
        return _too_many_guesses(request)
    now = timezone.now()
    try:
        link = services.usable_link(token, now)
    except services.LinkRefused as refusal:
        return _refusal(request, token, refusal, now)
    reading_pk, need_pk = _pk(request.GET.get("reading")), _pk(request.GET.get("need"))
    reading = (
        TemperatureReading.objects.filter(link=link, pk=reading_pk).first() if reading_pk else None
    )
    need = Need.objects.filter(link=link, pk=need_pk).first() if need_pk else None
    context = {
        "name": given_name(link.episode.person.name),
        "reading": reading,
        "symptoms": symptom_labels(reading.symptoms) if reading else "",
        "need": need,
        "again_url": reverse("selfreport:report", kwargs={"token": token}),
    }
    return render(request, "observation/selfreport_thanks.html", context)
