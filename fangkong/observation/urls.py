"""/observation/: the episode ledger and starting episodes (urls_ledger), one episode's pages
(urls_episode), 一人一表 and the chart (urls_sheet)."""

from __future__ import annotations

from . import urls_episode, urls_ledger, urls_sheet

app_name = "observation"

urlpatterns = [*urls_ledger.urlpatterns, *urls_episode.urlpatterns, *urls_sheet.urlpatterns]
