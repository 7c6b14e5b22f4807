"""LINE's API mocked at its URL, as in the bot tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import respx

from tests.bot.conftest import API_BASE


@pytest.fixture
def line_api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=API_BASE, assert_all_called=False, using="httpx") as router:
        yield router
