"""System checks for configuration mistakes (ids fangkong.E0xx / W0xx)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register


@register()
def check_configuration(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    problems: list[Any] = []
    bootstrap = (
        settings.BASE_DIR / "node_modules" / "bootstrap" / "dist" / "css" / "bootstrap.min.css"
    )
    if not bootstrap.is_file():
        problems.append(
            Warning(
                "Bootstrap is not installed, pages will have no layout.",
                hint="Run 'npm ci' (make run does it).",
                id="fangkong.W001",
            )
        )
    if settings.TIME_ZONE != "Asia/Shanghai":
        problems.append(
            Warning("TIME_ZONE is not Asia/Shanghai; report days would shift.", id="fangkong.W002")
        )
    if not settings.DEBUG and "*" in settings.ALLOWED_HOSTS:
        problems.append(
            Error(
                "ALLOWED_HOSTS contains '*' with DEBUG=False.",
                hint="List the host names.",
                id="fangkong.E001",
            )
        )
    return problems
