"""Takes the README's screenshots from a running demo (Debian's Chromium, driven by Playwright).

    CORDEE_HOME=.cordee .venv/bin/cordee demo --no-serve
    CORDEE_HOME=.cordee .venv/bin/cordee serve --port 8765 &
    .venv/bin/python scripts/readme_screenshot.py http://127.0.0.1:8765
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def main(base: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="fr-FR")
        page.goto(f"{base}/connexion/")
        page.fill("input[name=username]", "camille")
        page.fill("input[name=password]", "cordee-demo")
        page.click("button[type=submit]")
        page.goto(f"{base}/clients/?q=martin")
        page.screenshot(path=str(OUT / "customers.png"))
        page.locator("table a").first.click()
        page.wait_for_load_state()
        page.screenshot(path=str(OUT / "customer.png"), full_page=False)
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
