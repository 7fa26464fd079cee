"""Drive Debian's headless Chromium with Selenium and check what a reader would see.

Used by tests/test_browser.py, tests/test_browser_lab.py and tools/screenshots.py.
Each checker takes a driver on a loaded page and returns a list of problems (strings):
empty means fine. The checkers are tested against deliberately broken pages, so they are
known to be able to fail.

The browser is Debian's chromium + chromium-driver (browser builds cannot be downloaded
here; Selenium Manager is never asked to fetch one). Every host name resolves to
"not found" inside the browser (--host-resolver-rules), so a page that tries the web
fails at once, on this machine, without a single packet leaving it; the request still
shows up in the browser's network log, which is what the checkers read.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# Schemes that never leave the machine. about: is the blank page between loads.
LOCAL_SCHEMES = frozenset({"file", "data", "blob", "about"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})

CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-quic", "--no-first-run", "--no-default-browser-check",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--disable-features=Translate,MediaRouter,OptimizationHints",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
)


def find_chromium() -> tuple[str, str] | str:
    """(chromium, chromedriver) paths, or the reason they cannot be used.

    $CNNLIB_CHROMIUM and $CNNLIB_CHROMEDRIVER override the search.
    """
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the Python package selenium is not installed (it is in requirements.txt)"
    browser = os.environ.get("CNNLIB_CHROMIUM") or next(
        (p for p in ("/usr/bin/chromium", shutil.which("chromium"),
                     shutil.which("chromium-browser"), shutil.which("google-chrome"))
         if p and os.access(p, os.X_OK)), None)
    driver = os.environ.get("CNNLIB_CHROMEDRIVER") or next(
        (p for p in ("/usr/bin/chromedriver", shutil.which("chromedriver"))
         if p and os.access(p, os.X_OK)), None)
    missing = [name for name, path in (("chromium", browser), ("chromedriver", driver))
               if not path]
    if missing:
        return (f"{' and '.join(missing)} not found: install them with "
                "`apt-get install -y chromium chromium-driver` (or set CNNLIB_CHROMIUM / "
                "CNNLIB_CHROMEDRIVER)")
    return browser, driver


@contextmanager
def chromium(width: int = 1200, height: int = 900) -> Iterator:
    """A headless Chromium WebDriver with browser and network logging; always quits.

    Raises RuntimeError (with find_chromium's reason) when no browser is there.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = find_chromium()
    if isinstance(found, str):
        raise RuntimeError(found)
    browser, driver_path = found
    profile = tempfile.mkdtemp(prefix="cnnlib-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (*CHROMIUM_FLAGS, f"--window-size={width},{height}", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    # An explicit driver path: Selenium Manager then never tries to download one.
    service = Service(executable_path=driver_path)
    driver = webdriver.Chrome(options=options, service=service)
    try:
        driver.set_page_load_timeout(60)
        driver.set_script_timeout(30)
        driver.get("about:blank")
        drain_logs(driver)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def drain_logs(driver) -> None:
    """Forget the log entries so far (each get_log call empties its buffer)."""
    driver.get_log("browser")
    driver.get_log("performance")


def wait_until(predicate: Callable[[], object], timeout: float, what: str,
               interval: float = 0.1) -> object:
    """Poll `predicate` until it returns something truthy; TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        time.sleep(interval)


# ------------------------------------------------------------------------------ loading

_WAIT_FOR_PAGE = """
const done = arguments[arguments.length - 1];
const settle = () => setTimeout(() => done(true), 250);  // let late scripts log
const afterMath = () => {
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) mj.startup.promise.then(settle, settle);
  else settle();
};
// Images: make lazy ones load now, then wait for each to finish (or fail).
const images = [...document.images];
images.forEach(img => { if (img.loading === "lazy") img.loading = "eager"; });
Promise.all(images.map(img => img.complete ? null : new Promise(ok => {
  img.addEventListener("load", ok); img.addEventListener("error", ok); setTimeout(ok, 10000);
}))).then(afterMath);
"""


def load(driver, url: str) -> None:
    """Open `url` and wait until it loaded, its images settled and MathJax finished."""
    driver.get(url)
    wait_until(lambda: driver.execute_script("return document.readyState") == "complete",
               60, f"{url} to load")
    # MathJax loads with `defer`; its startup promise exists once its script ran.
    driver.execute_async_script(_WAIT_FOR_PAGE)


# ----------------------------------------------------------------------------- checkers

def console_errors(driver) -> list[str]:
    """SEVERE entries in the browser console since the last call (JS errors, failed
    loads, console.error)."""
    return [f"console: {entry['message']}" for entry in driver.get_log("browser")
            if entry.get("level") == "SEVERE"]


def requested_urls(driver) -> list[str]:
    """Every URL the page asked for since the last call: the DevTools network log
    (including requests that failed) plus the page's own resource timing entries."""
    urls: list[str] = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
        elif message["method"] == "Network.webSocketCreated":
            urls.append(message["params"]["url"])
    urls += driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    return list(dict.fromkeys(urls))


def is_local(url: str, allow_loopback: bool = False) -> bool:
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    return allow_loopback and parts.scheme in {"http", "ws"} and \
        (parts.hostname or "") in LOOPBACK_HOSTS


def outside_requests(driver, allow_loopback: bool = False) -> list[str]:
    """Requests that would leave the machine (anything but file:, data:, blob:, about:;
    with allow_loopback, http://127.0.0.1 and localhost too)."""
    return [f"outside request: {url}" for url in requested_urls(driver)
            if not is_local(url, allow_loopback)]


_MATH_REPORT = r"""
const skip = "script, style, pre, code, textarea, noscript, mjx-container, .highlight";
const raw = [
  [/\$\$[\s\S]+?\$\$/, "display math $$...$$"],
  [/\\\([\s\S]+?\\\)/, "inline math \\(...\\)"],
  [/\\\[[\s\S]+?\\\]/, "display math \\[...\\]"],
  [/(^|[^\\$\w])\$[^\s$](?:[^$\n]*?[^\s$\\])?\$(?![\w$])/, "inline math $...$"],
  [/\\begin\{[a-z*]+\}/, "a LaTeX environment"],
];
const found = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_ELEMENT);
// Check each visible element's own text (its text nodes joined), so that a formula that
// spans several text nodes of one element is still seen.
for (let el = walker.currentNode; el; el = walker.nextNode()) {
  if (el.closest(skip) || !el.checkVisibility()) continue;
  const own = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.data).join("");
  for (const [pattern, what] of raw) {
    const m = own.match(pattern);
    if (m) found.push(what + ": " + m[0].trim().slice(0, 80));
  }
}
const sphinxMath = [...document.querySelectorAll(".math")];
return {
  raw: found,
  untypeset: sphinxMath.filter(el => !el.querySelector("mjx-container"))
                       .map(el => el.textContent.trim().slice(0, 80)),
  errors: [...document.querySelectorAll("mjx-merror")]
            .map(el => el.getAttribute("data-mjx-error") || el.textContent.slice(0, 80)),
  typeset: document.querySelectorAll("mjx-container").length,
  mathElements: sphinxMath.length,
  mathjaxLoaded: !!(window.MathJax && window.MathJax.startup),
};
"""


def math_report(driver) -> dict:
    """{"raw": visible TeX left as text, "untypeset": Sphinx .math elements MathJax did not
    render, "errors": MathJax TeX errors, "typeset": mjx-container count,
    "mathElements", "mathjaxLoaded"}. Code blocks are not searched."""
    return driver.execute_script(_MATH_REPORT)


def math_problems(driver) -> list[str]:
    """Every formula a reader would see as raw TeX or as a MathJax error."""
    report = math_report(driver)
    problems = [f"raw TeX in the visible text: {r}" for r in report["raw"]]
    problems += [f"math not typeset by MathJax: {t}" for t in report["untypeset"]]
    problems += [f"MathJax error: {e}" for e in report["errors"]]
    if report["mathElements"] and not report["typeset"]:
        problems.append(f"{report['mathElements']} math elements but no mjx-container "
                        f"(MathJax loaded: {report['mathjaxLoaded']})")
    return problems


def broken_images(driver) -> list[str]:
    """Images in the page that did not load or are empty (naturalWidth 0)."""
    images = driver.execute_script(
        "return [...document.images].map(img => [img.currentSrc || img.src || '(no src)', "
        "img.complete, img.naturalWidth, img.naturalHeight])")
    return [f"image not shown: {src[:120]} (complete={done}, {w}x{h})"
            for src, done, w, h in images if not (done and w > 0 and h > 0)]


def page_problems(driver, url: str) -> list[str]:
    """Load `url` and run every page checker: console errors, outside requests, raw or
    broken math, broken images."""
    drain_logs(driver)
    load(driver, url)
    return (console_errors(driver) + outside_requests(driver) + math_problems(driver)
            + broken_images(driver))


def follow_link(driver, page_url: str, selector: str) -> tuple[str | None, list[str]]:
    """Open `page_url`, click the first element matching `selector` like a reader would,
    and return (the landed URL without fragment, problems)."""
    load(driver, page_url)
    links = driver.find_elements("css selector", selector)
    if not links:
        return None, [f"no link {selector!r} on {page_url}"]
    href = links[0].get_attribute("href")
    if href and href.split("#")[0] == page_url.split("#")[0]:
        return page_url.split("#")[0], []  # a link to the page itself: nothing to wait for
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", links[0])
    links[0].click()
    try:
        wait_until(lambda: driver.execute_script("return location.href") != page_url, 20,
                   f"{selector} on {page_url} to navigate")
        wait_until(lambda: driver.execute_script("return document.readyState") == "complete",
                   60, "the linked page to load")
    except TimeoutError as err:
        return None, [str(err)]
    landed = driver.execute_script("return location.href")
    if landed.startswith("chrome-error:"):
        return None, [f"{selector} on {page_url} -> {href}: the browser shows an error page "
                      "(missing file?)"]
    return landed.split("#")[0], []


def prev_next_problems(driver, page_urls: list[str], index: int) -> list[str]:
    """Follow the previous and next links of page `index` (sphinx-book-theme's
    a.left-prev / a.right-next) and check that they land on the neighboring pages in
    reading order `page_urls`. The first page must have no previous link."""
    url, problems = page_urls[index], []
    expected = {"a.left-prev": page_urls[index - 1] if index > 0 else None,
                "a.right-next": page_urls[index + 1] if index + 1 < len(page_urls) else None}
    for selector, target in expected.items():
        if target is None:
            load(driver, url)
            if selector == "a.left-prev" and driver.find_elements("css selector", selector):
                problems.append(f"{url}: the first page has a previous link")
            continue
        landed, trouble = follow_link(driver, url, selector)
        problems += trouble
        if landed is not None and landed != target:
            problems.append(f"{url}: {selector} landed on {landed}, expected {target}")
    return problems


def search_results(driver, search_url: str, timeout: float = 20) -> tuple[list[str], str]:
    """Open a Sphinx search page (…/search.html?q=WORD), wait for it to finish and
    return (result link URLs, the status text)."""
    load(driver, search_url)
    status = wait_until(
        lambda: driver.execute_script(
            "const s = document.querySelector('#search-results .search-summary, "
            "#search-results p');"
            "return s && /finished|found|did not match/i.test(s.textContent) ? "
            "s.textContent : null"),
        timeout, f"search results on {search_url}")
    links = driver.execute_script(
        "return [...document.querySelectorAll('#search-results ul.search li a')]"
        ".map(a => a.href)")
    return links, status


# ----------------------------------------------------------------- the static explorer

SET_SLIDERS = """
const root = arguments[0], values = arguments[1];
for (const [name, value] of Object.entries(values)) {
  const input = root.querySelector('input[data-cnnx-param="' + name + '"]');
  input.value = String(value);
  input.dispatchEvent(new Event("input", {bubbles: true}));
}
"""

READ_EXPLORER = """
const root = arguments[0];
const part = name => root.querySelector('[data-cnnx="' + name + '"]');
const step = root.querySelector('input[data-cnnx-param="step"]');
const win = root.querySelector('[data-cnnx="input"] .cnnx-window');
const cur = root.querySelector('[data-cnnx="output"] .cnnx-out-current');
return {
  formula: part("formula").textContent,
  w2: part("w2").textContent,
  d2: part("d2").textContent,
  volume: part("volume").textContent,
  error: part("error").hidden ? null : part("error").textContent,
  errorVisible: part("error").checkVisibility(),
  steptext: part("steptext").textContent,
  stepMax: parseInt(step.max, 10), step: parseInt(step.value, 10), stepDisabled: step.disabled,
  readouts: Object.fromEntries([...root.querySelectorAll("[data-cnnx-readout]")]
    .map(o => [o.getAttribute("data-cnnx-readout"), o.textContent])),
  dots: root.querySelectorAll('[data-cnnx="input"] .cnnx-dot').length,
  padCells: root.querySelectorAll('[data-cnnx="input"] .cnnx-pad').length,
  cells: root.querySelectorAll('[data-cnnx="input"] .cnnx-cell').length,
  hang: root.querySelectorAll('[data-cnnx="input"] .cnnx-hang').length,
  sheets: root.querySelectorAll('[data-cnnx="output"] .cnnx-sheet').length,
  frontCells: root.querySelectorAll('[data-cnnx="output"] .cnnx-front .cnnx-out').length,
  window: win ? {x: +win.getAttribute("x"), y: +win.getAttribute("y"),
                 size: +win.getAttribute("width"), all: win.classList.contains("cnnx-window-all")}
              : null,
  current: cur ? {x: +cur.getAttribute("x"), y: +cur.getAttribute("y")} : null,
  grid: (() => {  // origin and cell size of the input grid and the front output sheet
    const a = root.querySelector('[data-cnnx="input"] .cnnx-cell');
    const b = root.querySelector('[data-cnnx="output"] .cnnx-front .cnnx-out');
    return {x0: a ? +a.getAttribute("x") : null, y0: a ? +a.getAttribute("y") : null,
            cs: a ? +a.getAttribute("width") : null,
            ox0: b ? +b.getAttribute("x") : null, oy0: b ? +b.getAttribute("y") : null,
            ocs: b ? +b.getAttribute("width") : null};
  })(),
  invalid: root.classList.contains("cnnx-invalid"),
};
"""


def set_sliders(driver, root, **values: int) -> None:
    """Move the explorer's sliders the way a drag does: set the value, fire `input`."""
    driver.execute_script(SET_SLIDERS, root, values)


def read_explorer(driver, root) -> dict:
    """What the explorer shows: texts, step slider, and counts of the drawn shapes."""
    return driver.execute_script(READ_EXPLORER, root)


def file_url(path: Path) -> str:
    return path.resolve().as_uri()


def require_chromium() -> None:
    """Skip the calling test (fail it where CNNLIB_REQUIRE_BROWSER is set, as in CI) when
    Chromium or its driver is missing."""
    found = find_chromium()
    if isinstance(found, str):
        message = f"BROWSER TESTS NOT RUN: {found}"
        if os.environ.get("CNNLIB_REQUIRE_BROWSER"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
