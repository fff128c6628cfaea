"""Settings of the gunicorn server of the ``reading_throughput`` benchmark only: the app's own
settings with :mod:`fangkong.observation.bench_urls` as the URLconf (the app's URLs plus a
bare JSON view). Never used by the app itself."""

from __future__ import annotations

from fangkong.settings import *  # noqa: F403

ROOT_URLCONF = "fangkong.observation.bench_urls"
