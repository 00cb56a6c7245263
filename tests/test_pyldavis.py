"""The pyLDAvis export in a real headless Chromium: it loads offline and draws the topics.

Trains a small model (builtin:wiki250, K=5), writes ``esca export --format
pyldavis`` and opens the page from its file in Chromium (Debian's
``chromium`` package, driven by Playwright). Every request the page makes is
recorded and any that is not ``file:`` or ``data:`` is aborted, so the test
proves the page needs no network. Then: no console error and no uncaught
exception, K topic circles (``circle.dot``) and R word bars drawn, and a
click on a topic circle selects it (its bars turn red, the URL fragment
records it) still without errors. A screenshot is saved to the test's
folder and, when ``ESCA_SCREENSHOT_DIR`` is set, copied there.

Skipped when Playwright, Chromium or pyLDAvis is missing, unless
``ESCA_REQUIRE_BROWSER=1`` (set by ``.ci/run``): then it fails instead.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import esca

K = 5
TERMS = 30
ROOT = Path(__file__).resolve().parents[1]
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-dev-shm-usage"]


def _missing(reason):
    """Skip, or fail when the CI demands the browser test (ESCA_REQUIRE_BROWSER=1)."""
    if os.environ.get("ESCA_REQUIRE_BROWSER") == "1":
        pytest.fail(f"ESCA_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def _chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def page_file(tmp_path_factory):
    """The exported HTML page of a small trained model, written by the CLI."""
    try:
        import pyLDAvis  # noqa: F401
    except ImportError:
        _missing("pyLDAvis is not installed (pip install 'esca-lda[viz]')")
    d = tmp_path_factory.mktemp("pyldavis")
    model = esca.train("builtin:wiki250", num_topics=K, iterations=20, threads=1, eval_every=5,
                       seed=2)
    model.save(d / "m.h5")
    r = subprocess.run([sys.executable, "-m", "esca", "export", "m.h5", "--format", "pyldavis",
                        "--out", "topics.html"], cwd=d, check=False, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    return d / "topics.html"


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install 'esca-lda[test]')")
    exe = _chromium()
    if exe is None:
        _missing("chromium is not installed (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True, args=LAUNCH_ARGS)
        try:
            yield b
        finally:
            b.close()


def test_page_is_a_complete_offline_document(page_file):
    text = page_file.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in text and "<title>" in text
    assert text.rstrip().endswith("</html>")
    # Nothing is loaded by address: no tag of the page has a src or href other than data:.
    tags = _tags(text)
    assert [t for t, _ in tags][:3] == ["html", "head", "meta"]
    addresses = [v for _, attrs in tags for k, v in attrs if k in ("src", "href") and v]
    assert all(v.startswith("data:") for v in addresses), addresses
    assert "cdn.jsdelivr" not in text and "<script src" not in text.lower()
    assert sum(t == "script" for t, _ in tags) == 4 and sum(t == "style" for t, _ in tags) == 2
    assert "new LDAvis(" in text


def _tags(text):
    """(tag, attributes) of every start tag of an HTML page (script bodies are not parsed)."""
    from html.parser import HTMLParser

    class Tags(HTMLParser):
        def __init__(self):
            super().__init__()
            self.found = []

        def handle_starttag(self, tag, attrs):
            self.found.append((tag, attrs))

    parser = Tags()
    parser.feed(text)
    parser.close()
    return parser.found


def test_page_in_headless_chromium(page_file, browser, tmp_path):
    console_errors, page_errors, requests, blocked = [], [], [], []
    context = browser.new_context(viewport={"width": 1250, "height": 900},
                                  service_workers="block")
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
    page.on("pageerror", lambda e: page_errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))

    def route(r):
        if r.request.url.startswith(("file:", "data:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    try:
        page.goto(page_file.as_uri(), wait_until="load")
        page.wait_for_selector("svg circle.dot", state="attached", timeout=30_000)
        page.wait_for_timeout(500)

        # One circle per topic, with LDAvis's numbering 1..K (esca topic k is LDAvis k+1).
        circles = page.locator("svg circle.dot")
        assert circles.count() == K
        ids = sorted(circles.evaluate_all("els => els.map(e => e.id)"))
        assert ids == sorted(f"ldavis_esca-topic{t}" for t in range(1, K + 1))
        radii = circles.evaluate_all("els => els.map(e => +e.getAttribute('r'))")
        assert all(r > 0 for r in radii)
        # The default bar chart: the R most salient words, each with a grey bar.
        assert page.locator("svg rect.bar-totals").count() == TERMS
        assert page.locator("svg text.terms").count() == TERMS

        # Selecting a topic draws its red bars and records it in the URL fragment.
        # (dispatched, not a pointer click: topic circles may overlap)
        page.locator("#ldavis_esca-topic1").dispatch_event("click")
        page.wait_for_timeout(1_000)
        assert page.locator("svg rect.overlay").count() == TERMS
        assert "#topic=1" in page.url

        shot = tmp_path / "pyldavis.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        if os.environ.get("ESCA_SCREENSHOT_DIR"):
            dest = Path(os.environ["ESCA_SCREENSHOT_DIR"])
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shot, dest / "pyldavis.png")
    finally:
        context.close()

    assert console_errors == []
    assert page_errors == []
    assert blocked == [], f"the page tried to reach the network: {blocked}"
    assert requests and all(u.startswith(("file:", "data:")) for u in requests), requests


def test_history_shim_keeps_only_the_fragment_for_file_pages(browser):
    """Where a file page's origin is "null", LDAvis's URL state becomes a bare fragment.

    Chromium reports ``file://`` as the origin of a file page, so the shim is
    idle there (the test above); other browsers report "null", and LDAvis's
    ``history.replaceState("null/path#topic=..")`` would throw. The shim runs
    here on a stand-in window object with that origin.
    """
    from esca.export._template import HISTORY_SHIM
    page = browser.new_page()
    try:
        calls = page.evaluate("""shim => {
            const calls = [];
            const fake = {location: {origin: "null"},
                          history: {pushState: (s, t, u) => calls.push(["push", u]),
                                    replaceState: (s, t, u) => calls.push(["replace", u])}};
            new Function("window", shim)(fake);
            fake.history.replaceState({}, "Query", "null/tmp/topics.html#topic=2&lambda=1&term=");
            fake.history.pushState({}, "Query", "null/tmp/topics.html");
            const idle = {location: {origin: "file://"},
                          history: {replaceState: (s, t, u) => calls.push(["idle", u])}};
            new Function("window", shim)(idle);
            idle.history.replaceState({}, "Query", "file:///tmp/topics.html#topic=1");
            return calls;
        }""", HISTORY_SHIM)
    finally:
        page.close()
    assert calls == [["replace", "#topic=2&lambda=1&term="], ["push", "null/tmp/topics.html"],
                     ["idle", "file:///tmp/topics.html#topic=1"]]


@pytest.mark.parametrize("k", [1, 2])
def test_one_and_two_topic_pages_in_headless_chromium(k, browser, tmp_path):
    """K = 1 (placed without pyLDAvis's PCoA, which needs K >= 2) and K = 2 pages draw
    their circles and bars without errors."""
    import numpy as np

    from esca.export import export_pyldavis
    rng = np.random.default_rng(k)
    n_kw = rng.integers(1, 9, size=(k, 12)).astype(np.int32)
    model = esca.TopicModel(n_kw=n_kw, n_k=n_kw.sum(axis=1), n_dk=n_kw.sum(axis=1)[None, :],
                            vocab=[f"w{i}" for i in range(12)], alpha=np.full(k, 0.1),
                            beta=0.01, config=esca.TrainConfig(num_topics=k, iterations=1))
    path = tmp_path / "page.html"
    export_pyldavis(model, str(path))
    errors = []
    page = browser.new_page(viewport={"width": 1250, "height": 900})
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    try:
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_selector("svg circle.dot", state="attached", timeout=30_000)
        circles = page.locator("svg circle.dot")
        assert circles.count() == k
        radii = circles.evaluate_all("els => els.map(e => +e.getAttribute('r'))")
        centers = circles.evaluate_all("els => els.map(e => [+e.getAttribute('cx'), "
                                       "+e.getAttribute('cy')])")
        assert all(r > 0 for r in radii)
        assert all(np.isfinite(c).all() for c in centers), centers
        page.locator("#ldavis_esca-topic1").dispatch_event("click")
        page.wait_for_timeout(500)
        assert page.locator("svg rect.overlay").count() == 12
    finally:
        page.close()
    assert errors == []
