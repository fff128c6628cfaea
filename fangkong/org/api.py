"""API endpoints of the organisation and the register."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["org"])
