"""Helpers of the page tests: the text of a page fragment or of an element."""

from __future__ import annotations

import html
import re
from typing import Any


def plain(fragment: str) -> str:
    """The text of an HTML fragment, tags dropped and spaces collapsed."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip())


def element(response: Any, element_id: str) -> str:
    """The text of the element with ``element_id`` (up to its closing tag of the same
    name, nested ones included)."""
    assert response.status_code == 200, f"{response.status_code}: no page"
    page = response.content.decode()
    match = re.search(rf'<(\w+)[^>]*\bid="{re.escape(element_id)}"[^>]*>', page)
    assert match is not None, f"no #{element_id} in the page"
    tag = match.group(1)
    depth, position, end = 1, match.end(), match.end()
    pattern = re.compile(rf"<(/?){tag}\b[^>]*>")
    while depth:
        found = pattern.search(page, position)
        assert found is not None, f"#{element_id} is not closed"
        depth += -1 if found.group(1) else 1
        position, end = found.end(), found.start()
    return plain(page[match.end() : end])


def has_element(response: Any, element_id: str) -> bool:
    return f'id="{element_id}"' in response.content.decode()
