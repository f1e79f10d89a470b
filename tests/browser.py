"""Opening a page in headless Chromium (Debian's, driven by Playwright) and saying what broke:
every resource that failed to load, every console error, every image with no pixels."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

#: Chromium's flags on a machine with no network and no screen, run as root in CI.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def needs_browser() -> None:
    """Skip (with the reason) where there is no Chromium, unless CI asks for it
    (GANZOO_REQUIRE_BROWSER=1, set by .ci/run, which installs it): then the test fails."""
    missing = []
    if chromium_path() is None:
        missing.append("Chromium (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright (pip install -e '.[dev]')")
    if missing:
        reason = f"the browser tests need {' and '.join(missing)}"
        if os.environ.get("GANZOO_REQUIRE_BROWSER"):
            pytest.fail(reason + ", and GANZOO_REQUIRE_BROWSER is set")
        pytest.skip(reason)


@dataclass
class PageCheck:
    failed_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    images: int = 0
    texts: dict[str, str] = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        return (
            [f"failed to load: {url}" for url in self.failed_requests]
            + [f"console error: {text}" for text in self.console_errors]
            + [f"image without pixels: {src}" for src in self.broken_images]
        )


def open_page(page_file: Path, screenshot: Path | None = None, actions=None, texts: tuple[str, ...] = ()) -> PageCheck:
    """Load ``page_file`` from file://, run ``actions(page)`` if given, and check every image
    (hidden ones included: each is loaded and decoded, or reported). ``texts``: CSS selectors
    whose text is returned."""
    from playwright.sync_api import sync_playwright

    check = PageCheck()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda message: message.type == "error" and check.console_errors.append(message.text))
            page.on("pageerror", lambda error: check.console_errors.append(str(error)))
            page.on("requestfailed", lambda request: check.failed_requests.append(request.url))
            page.goto(page_file.resolve().as_uri(), wait_until="load")
            if actions is not None:
                actions(page)
            images = page.evaluate(
                "Promise.all([...document.images].map(img => img.decode().then(() => [img.src, img.naturalWidth],"
                " () => [img.src, 0])))"
            )
            check.images = len(images)
            check.broken_images = [src for src, width in images if not width]
            check.texts = {selector: page.inner_text(selector) for selector in texts}
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return check
