"""The office's settings of the daily report: the indicators (add, change — the order
included —, retire, bring back) and the rules (the deadline, grid sub-reports), every change
in the audit trail."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Max
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from fangkong.core.permissions import Perm
from fangkong.core.scoping import has_perm
from fangkong.core.viewkit import AuthedRequest, apply_service_errors, requires
from fangkong.org.selectors import audit_trail

from . import selectors, services
from .forms import IndicatorForm, ReportingRulesForm
from .models import Indicator
from .prefill import rule_choices
from .rules import current_rules

RETIRE = "retire"
REINSTATE = "reinstate"


def _settings_url() -> str:
    return reverse("reporting:settings")


@require_http_methods(["GET", "POST"])
@requires(Perm.REPORTING_MANAGE)
def settings_page(request: AuthedRequest) -> HttpResponse:
    """The rules (a form) and the indicators, those retired included."""
    rules = current_rules()
    initial = {name: getattr(rules, name) for name in ReportingRulesForm.FIELDS}
    form = ReportingRulesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_rules(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Rules saved. They apply from now on."))
            return redirect(_settings_url())
    may_audit = has_perm(request.user, Perm.AUDIT_VIEW)
    return render(
        request,
        "reporting/settings.html",
        {
            "form": form,
            "rules": rules,
            "indicators": list(selectors.indicators(include_retired=True)),
            "rule_labels": dict(rule_choices()),
            "may_audit": may_audit,
            "audit": audit_trail(rules, masked={}) if may_audit and rules.pk else [],
        },
    )


def _indicator(pk: Any) -> Indicator:
    try:
        found = selectors.indicators(include_retired=True).filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        found = None
    if found is None:
        raise Http404
    return found


@require_http_methods(["GET", "POST"])
@requires(Perm.REPORTING_MANAGE)
def indicator_form(request: AuthedRequest) -> HttpResponse:
    """Add an indicator, or change the one of ``?indicator=`` (its code and kind stay
    fixed once a report used it: the service says so)."""
    indicator = _indicator(request.GET["indicator"]) if request.GET.get("indicator") else None
    if indicator is not None:
        initial: dict[str, Any] = {
            "code": indicator.code,
            "name": indicator.name,
            "kind": indicator.kind,
            "order": indicator.order,
            "rule": indicator.rule,
            "is_abnormal": indicator.is_abnormal,
        }
    else:
        last = selectors.indicators(include_retired=True).aggregate(last=Max("order"))["last"]
        initial = {"kind": Indicator.Kind.COUNT, "order": (last or 0) + 10}
    form = IndicatorForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_indicator(
                actor=request.user, indicator=indicator, **form.cleaned_data
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Indicator %(name)s saved.") % {"name": saved.name})
            return redirect(_settings_url())
    return render(request, "reporting/indicator_form.html", {"form": form, "indicator": indicator})


@require_POST
@requires(Perm.REPORTING_MANAGE)
def indicator_state(request: AuthedRequest) -> HttpResponseBase:
    """Retire an indicator (from now on; reports filed with it keep it) or bring it back."""
    indicator = _indicator(request.POST.get("indicator"))
    action = request.POST.get("action")
    try:
        if action == RETIRE:
            services.retire_indicator(actor=request.user, indicator=indicator)
            done = _("%(name)s is retired: new reports no longer have it; filed ones keep it.")
        elif action == REINSTATE:
            services.reinstate_indicator(actor=request.user, indicator=indicator)
            done = _("%(name)s is back on the report from now on.")
        else:
            raise Http404
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done % {"name": indicator.name})
    return redirect(_settings_url())
