"""Open an exported pyLDAvis page in headless Chromium, offline, and save a screenshot.

    esca export model.h5 --format pyldavis --out topics.html
    python experiments/screenshot_pyldavis.py topics.html shot.png [--topic 7]

Every request that is not file: or data: is blocked and reported; console errors, the
number of topic circles and the blocked requests are printed. Needs Playwright (the test
extra) and Chromium (Debian's package at /usr/bin/chromium, or CHROMIUM=path).
"""

import argparse
import os
import pathlib
import shutil
import sys

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main(argv=None):
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - optional, a test extra
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("page")
    p.add_argument("png")
    p.add_argument("--topic", type=int, default=1, help="LDAvis topic to select (from 1)")
    a = p.parse_args(argv)
    exe = os.environ.get("CHROMIUM") or shutil.which("chromium")
    errors, blocked = [], []

    def route(r):
        if r.request.url.startswith(("file:", "data:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 950})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route("**/*", route)
        page.goto(pathlib.Path(a.page).resolve().as_uri())
        page.wait_for_selector("circle.dot")
        circles = page.locator("circle.dot")
        n = circles.count()
        circles.nth(a.topic - 1).dispatch_event("click")
        page.wait_for_timeout(500)
        page.screenshot(path=a.png)
        browser.close()
    print(f"topic circles: {n}; console errors: {errors or 'none'}; "
          f"blocked requests: {blocked or 'none'}; wrote {a.png}")
    return 1 if errors or blocked else 0


if __name__ == "__main__":
    sys.exit(main())
