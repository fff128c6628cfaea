from __future__ import annotations

from django.test import Client

from fangkong.core.testing import World


def test_grid_worker_sees_only_their_grid_in_the_person_list(world: World, client: Client) -> None:
    client.force_login(world.user("worker11"))
    response = client.get("/org/persons/")
    assert response.status_code == 200
    names = {p.name for p in response.context["page"]}
    assert names == {"张建国", "张小明"}
