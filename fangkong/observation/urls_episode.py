"""One episode's pages, the today list, the needs and the care visits (under /observation/)."""

from __future__ import annotations

from django.urls import path

from . import views_care, views_episode

urlpatterns = [
    path("today/", views_episode.today, name="today"),
    path("needs/", views_episode.needs, name="needs"),
    path("needs/<int:need_id>/", views_episode.need_update, name="need_update"),
    path("care/", views_care.care_list, name="care_list"),
    path("care/new/", views_care.care_create, name="care_create"),
    path(
        "care/household/<int:household_id>/",
        views_care.care_household,
        name="care_household",
    ),
    path("<int:episode_id>/", views_episode.episode_detail, name="episode_detail"),
    path("<int:episode_id>/readings/", views_episode.add_reading, name="add_reading"),
    path("<int:episode_id>/visits/", views_episode.add_visit, name="add_visit"),
    path("<int:episode_id>/needs/", views_episode.add_need, name="add_need"),
    path("<int:episode_id>/responsible/", views_episode.responsible, name="responsible"),
    path("<int:episode_id>/link/", views_episode.link, name="link"),
    path("<int:episode_id>/notice/", views_episode.notice, name="notice"),
]
