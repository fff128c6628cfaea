"""The API of checkpoints and duty under /api/v1/: checkpoints and entries, the roster,
disinfection and publicity."""

from __future__ import annotations

from ninja import Router

from .api_duty import router as duty_router
from .api_entries import router as entries_router
from .api_records import router as records_router

router = Router()
router.add_router("/", entries_router)
router.add_router("/", duty_router)
router.add_router("/", records_router)
