"""A real headless Chromium for the browser tests, driven with Selenium.

Selenium with Debian's chromium-driver rather than Playwright: the driver is built from the
same source package as /usr/bin/chromium, so browser and driver versions always match and
nothing is downloaded; Playwright pins its own browser build and expects `playwright
install` to fetch it, which a machine without internet cannot do.

Without Chromium the tests are skipped with the reason; with UKETSUKE_BROWSER_TESTS=required
(CI) they fail instead, so a broken install cannot pass silently.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("UKETSUKE_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("UKETSUKE_CHROMEDRIVER", "/usr/bin/chromedriver"))
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
)


def require_chromium() -> None:
    """Skip (or, when required, fail) unless Chromium and its driver are installed."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if not missing:
        return
    reason = (
        f"browser tests need {' and '.join(missing)} "
        "(Debian: apt-get install chromium chromium-driver)"
    )
    if os.environ.get("UKETSUKE_BROWSER_TESTS") == "required":
        pytest.fail(f"UKETSUKE_BROWSER_TESTS=required but {reason}", pytrace=False)
    pytest.skip(reason)


@contextmanager
def chromium(profile: Path) -> Iterator[object]:
    """A headless Chromium with a fresh profile in `profile`, quit at the end."""
    require_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def gone(driver: Any, element: Any, seconds: float = 10) -> None:
    """Wait until the page `element` was on has been replaced (a click that submits a form
    or follows a link has loaded the next page)."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def replaced(_: Any) -> bool:
        try:
            element.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            # While the old page unloads, chromedriver may report its node this way instead
            # of as a stale element.
            if "does not belong to the document" in str(error):
                return True
            raise
        return False

    WebDriverWait(driver, seconds).until(replaced)
