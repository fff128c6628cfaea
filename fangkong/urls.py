from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from fangkong import api
from fangkong.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("api/v1/", api.urls()),
    path("accounts/", include("fangkong.core.account_urls")),
    path("org/", include("fangkong.org.urls")),
    path("screening/", include("fangkong.screening.urls")),
    path("observation/", include("fangkong.observation.urls")),
    path("alerts/", include("fangkong.alerts.urls")),
    path("reporting/", include("fangkong.reporting.urls")),
    path("checkpoints/", include("fangkong.checkpoints.urls")),
    path("r/", include("fangkong.observation.urls_selfreport")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
