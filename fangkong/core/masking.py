"""Masking of personal numbers for display and export."""

from __future__ import annotations


def mask_id_number(value: str) -> str:
    """``110105194912310021`` → ``110105********0021``: region and last four kept."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """``13812345678`` → ``138****5678``."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
