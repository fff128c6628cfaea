from __future__ import annotations

from .urls_duty import urlpatterns as duty_urls
from .urls_entries import urlpatterns as entry_urls
from .urls_records import urlpatterns as record_urls

app_name = "checkpoints"

urlpatterns = [*entry_urls, *duty_urls, *record_urls]
