"""The built book in a real browser: every page renders, its math typesets, its images load.

The session fixture ``built_book`` (``tests/conftest.py``) builds the book once with the smoke
profile and returns its ``html`` folder. This module serves that folder on 127.0.0.1 with a
threaded ``http.server`` on an ephemeral port and drives headless Chromium through selenium:

- every page in ``book/_toc.yml`` (chapters and reference pages) loads with no console error,
  its math is typeset by MathJax (no raw TeX left, no TeX error), every local image has loaded
  (``naturalWidth > 0``), every local link points at a file that exists, and a screenshot is
  saved to ``test-artifacts/screenshots/<page>.png`` (1280x2000 window);
- each chapter's Colab launch link points at that chapter's notebook on GitHub, and the shared
  GPU note (``book/_gpu_note.md``) is on the page with its link to the GPU options page;
- the run-time table on the "How to run" page lists every chapter with its measured wall time;
- the search page finds "GloVe".

**Network.** The browser is hermetic: ``--host-resolver-rules`` makes every host name except
127.0.0.1 fail to resolve, so a test run never touches the network and behaves the same offline
and in CI. The book serves its own MathJax (``book/_static/mathjax``), so nothing it needs comes
from outside. The one external resource a page may show is the *Open in Colab* badge image in
each chapter's first cell (``colab.research.google.com/assets/colab-badge.svg``): that image, and
the console error its failed load produces, are the only external things tolerated
(``ALLOWED_EXTERNAL_IMAGES``); any other external image or console error fails the test.

**Browser.** Debian's ``chromium`` and ``chromium-driver`` (``/usr/bin/chromium``,
``/usr/bin/chromedriver``; override with ``PTFT_CHROMIUM`` / ``PTFT_CHROMEDRIVER``). When they are
missing the tests skip with the reason, unless ``PTFT_REQUIRE_BROWSER=1`` (set by ``.ci/run``), in
which case they fail.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
import yaml

pytestmark = [pytest.mark.slow, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[1]
TOC = REPO / "book" / "_toc.yml"
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
WINDOW = (1280, 2000)
COLAB_PREFIX = "https://colab.research.google.com/github/ptft-book/ptft/blob/main/"

# External images a page may show, as (host, path). They may fail to load (offline, or blocked by
# the resolver rule below); their failure is the only console error the tests tolerate.
ALLOWED_EXTERNAL_IMAGES = {("colab.research.google.com", "/assets/colab-badge.svg")}

CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # Hermetic: every host name except the loopback server fails to resolve, immediately.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    f"--window-size={WINDOW[0]},{WINDOW[1]}",
)


def toc_docnames(toc_path: Path = TOC) -> list[str]:
    """The root and every ``file:`` entry of the table of contents, in reading order."""
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    names = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries or []:
            if "file" in entry:
                names.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    walk(toc.get("chapters", []))
    return [re.sub(r"\.(md|ipynb)$", "", name) for name in names]


PAGES = toc_docnames()
CHAPTERS = [name for name in PAGES if name.startswith("notebooks/")]


def screenshot_name(docname: str) -> str:
    return docname.replace("/", "__") + ".png"


# --- the browser and the server ------------------------------------------------------------------


def _browser_paths() -> tuple[str, str] | str:
    """(chromium, chromedriver), or why they cannot be used."""
    chromium = os.environ.get("PTFT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    driver = os.environ.get("PTFT_CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
    missing = [path for path in (chromium, driver) if not Path(path).is_file()]
    if missing:
        return f"headless browser not found: {', '.join(missing)} (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is not installed (pip install -e '.[dev]')"
    return chromium, driver


@pytest.fixture(scope="module")
def browser_paths() -> tuple[str, str]:
    found = _browser_paths()
    if isinstance(found, str):
        if os.environ.get("PTFT_REQUIRE_BROWSER") == "1":
            pytest.fail(f"PTFT_REQUIRE_BROWSER=1 but {found}")
        pytest.skip(found)
    return found


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="module")
def book_url(built_book: Path) -> Iterator[str]:
    """The built book served on 127.0.0.1 on an ephemeral port."""
    html = Path(built_book)
    assert (html / "index.html").is_file(), f"{html} holds no built book"
    handler = functools.partial(_QuietHandler, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def driver(browser_paths: tuple[str, str]) -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, chromedriver = browser_paths
    profile_dir = tempfile.mkdtemp(prefix="ptft-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in CHROMIUM_ARGS:
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={profile_dir}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    browser.set_page_load_timeout(60)
    browser.set_script_timeout(60)
    # --window-size sets the outer window; make the page's viewport itself WINDOW (the screenshots).
    chrome = browser.execute_script(
        "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight]"
    )
    browser.set_window_size(WINDOW[0] + chrome[0], WINDOW[1] + chrome[1])
    try:
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile_dir, ignore_errors=True)


# --- what a page looks like after it loaded ------------------------------------------------------

_SETTLE_JS = """
const done = arguments[arguments.length - 1];
(async () => {
  const out = {mathjax: null, error: null};
  try {
    // Lazy images below the fold would never load in a fixed window: load them all now.
    const images = Array.from(document.images);
    images.forEach(img => { img.loading = "eager"; });
    await Promise.all(images.map(img => img.complete ? null : new Promise(resolve => {
      img.addEventListener("load", resolve, {once: true});
      img.addEventListener("error", resolve, {once: true});
    })));
    if (document.querySelector(".math")) {
      const start = Date.now();
      while (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
        if (Date.now() - start > 30000) throw new Error("MathJax did not start within 30 s");
        await new Promise(resolve => setTimeout(resolve, 50));
      }
      await MathJax.startup.promise;
      out.mathjax = MathJax.version;
    }
  } catch (err) { out.error = String(err); }
  done(out);
})();
"""

_INSPECT_JS = """
const mathNodes = Array.from(document.querySelectorAll(".math"));
return {
  title: document.title,
  h1: Array.from(document.querySelectorAll("main h1, article h1")).map(h => h.textContent.trim()),
  math: mathNodes.length,
  mathUntypeset: mathNodes.filter(m => !m.querySelector("mjx-container")).map(m => m.textContent.slice(0, 80)),
  mjxContainers: document.querySelectorAll("mjx-container").length,
  mjxErrors: Array.from(document.querySelectorAll("mjx-merror")).map(e => e.textContent.slice(0, 80)),
  images: Array.from(document.images).map(img => ({
    src: img.currentSrc || img.src, complete: img.complete, naturalWidth: img.naturalWidth})),
  links: Array.from(document.querySelectorAll("a[href]")).map(a => a.href),
  admonitions: Array.from(document.querySelectorAll(".admonition-title")).map(t => t.textContent.trim()),
};
"""


def _is_allowed_external_image(url: str) -> bool:
    parts = urlsplit(url)
    return (parts.hostname, parts.path) in ALLOWED_EXTERNAL_IMAGES


def _console_errors(entries: list[dict]) -> list[str]:
    """SEVERE console entries, less the failed loads of the allowed external images."""
    errors = []
    for entry in entries:
        if entry.get("level") != "SEVERE":
            continue
        message = entry.get("message", "")
        url = message.split(" ", 1)[0]
        if entry.get("source") == "network" and _is_allowed_external_image(url):
            continue
        errors.append(message)
    return errors


def visit(driver, url: str) -> dict:
    """Load ``url``, wait for images and MathJax, and report what the page holds and logged."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(url)
    # On a loaded machine the script below could otherwise still see the previous page: wait until
    # this page is the one shown and has finished loading.
    WebDriverWait(driver, 60).until(
        lambda d: (
            d.execute_script("return document.readyState") == "complete"
            and d.current_url.split("#")[0] == url.split("#")[0]
        )
    )
    settled = driver.execute_async_script(_SETTLE_JS)
    page = driver.execute_script(_INSPECT_JS)
    page["settle"] = settled
    page["console_errors"] = _console_errors(driver.get_log("browser"))
    return page


# --- the tests -----------------------------------------------------------------------------------


def test_index_redirects_to_the_introduction(driver, book_url: str) -> None:
    driver.get(book_url)
    assert driver.current_url == urljoin(book_url, "book/intro.html")


@pytest.mark.parametrize("docname", PAGES)
def test_page_renders_cleanly_in_chromium(driver, book_url: str, built_book: Path, docname: str) -> None:
    url = urljoin(book_url, docname + ".html")
    page = visit(driver, url)

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / screenshot_name(docname)
    assert driver.save_screenshot(str(shot)), f"no screenshot of {docname}"
    assert shot.stat().st_size > 10_000, f"{shot} is suspiciously small (blank page?)"

    assert page["settle"]["error"] is None, page["settle"]["error"]
    assert len(page["h1"]) >= 1 and page["h1"][0], f"{docname}: no title heading"
    assert page["console_errors"] == [], f"{docname}: console errors {page['console_errors']}"

    # Math: every math node typeset by MathJax, none with a TeX error.
    if page["math"]:
        assert page["settle"]["mathjax"], f"{docname}: has math but MathJax never started"
        assert page["mjxContainers"] >= page["math"], f"{docname}: raw TeX left: {page['mathUntypeset'][:5]}"
        assert page["mathUntypeset"] == []
    assert page["mjxErrors"] == [], f"{docname}: TeX errors {page['mjxErrors']}"

    # Images: local ones loaded; external ones only from the allowed badge host.
    origin = urlsplit(book_url).netloc
    for image in page["images"]:
        if urlsplit(image["src"]).netloc == origin:
            assert image["complete"] and image["naturalWidth"] > 0, f"{docname}: image did not load: {image['src']}"
        else:
            assert _is_allowed_external_image(image["src"]), f"{docname}: external image {image['src']}"

    # Local links: the target file exists in the built book.
    html = Path(built_book)
    for link in page["links"]:
        parts = urlsplit(link)
        if parts.netloc != origin:
            continue
        target = html / unquote(parts.path).lstrip("/")
        if target.is_dir():
            target = target / "index.html"
        assert target.is_file(), f"{docname}: broken link {link}"


def test_pages_with_formulas_render_math(driver, book_url: str) -> None:
    for docname in ("notebooks/02_formulas", "book/glossary"):
        if docname not in PAGES:
            continue
        page = visit(driver, urljoin(book_url, docname + ".html"))
        assert page["math"] > 0, f"{docname} shows no math"
        assert page["mjxContainers"] >= page["math"], f"{docname}: raw TeX left: {page['mathUntypeset'][:5]}"


@pytest.mark.parametrize("docname", CHAPTERS)
def test_chapter_shows_the_gpu_note_with_a_working_link(driver, book_url: str, docname: str) -> None:
    page = visit(driver, urljoin(book_url, docname + ".html"))
    assert "CPU or GPU?" in page["admonitions"], f"{docname}: the included GPU note is not on the page"
    assert urljoin(book_url, "book/gpu.html") in page["links"], f"{docname}: no link to the GPU options page"


@pytest.mark.parametrize("docname", CHAPTERS)
def test_colab_launch_link_opens_this_chapter(driver, book_url: str, docname: str) -> None:
    page = visit(driver, urljoin(book_url, docname + ".html"))
    expected = COLAB_PREFIX + docname + ".ipynb"
    colab = {link for link in page["links"] if link.startswith("https://colab.research.google.com/github/")}
    assert expected in colab, f"{docname}: no launch link to {expected}; found {sorted(colab)}"
    assert colab == {expected}, f"{docname}: Colab links to other notebooks: {sorted(colab - {expected})}"
    assert any(link.startswith("https://mybinder.org/v2/gh/ptft-book/ptft/main?") for link in page["links"])


def test_run_time_table_lists_every_chapter_from_its_record(driver, book_url: str) -> None:
    visit(driver, urljoin(book_url, "book/how_to_run.html"))
    rows = driver.execute_script(
        "return Array.from(document.querySelectorAll('table.ptft-run-times tbody tr'))"
        ".map(tr => Array.from(tr.cells).map(td => td.textContent.trim()))"
    )
    assert [row[0] for row in rows] == [name.split("/")[1] for name in CHAPTERS], rows
    for notebook, _profile, _device, _cpu, seconds in rows:
        assert float(seconds) > 0, f"{notebook}: wall time {seconds!r}"


def test_search_finds_glove(driver, book_url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get_log("browser")
    driver.get(urljoin(book_url, "search.html?q=GloVe"))
    WebDriverWait(driver, 30).until(
        lambda d: (
            d.find_elements(By.CSS_SELECTOR, "#search-results ul.search li")
            or d.find_elements(By.CSS_SELECTOR, "#search-results .search-summary")
        )
    )
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results ul.search li"))
    results = driver.find_elements(By.CSS_SELECTOR, "#search-results ul.search li")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / "search.png"))
    assert results, "search for GloVe found nothing"
    assert any("GloVe" in item.text for item in results), [item.text[:80] for item in results]
    assert _console_errors(driver.get_log("browser")) == []
