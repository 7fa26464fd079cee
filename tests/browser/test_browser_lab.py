"""Live widgets: a real JupyterLab on 127.0.0.1 runs a notebook with the ipywidgets
stride/padding explorer (cnnlib.book.conv_explorer.conv_explorer), and headless Chromium moves its
sliders like a reader: the formula, the numbers and the picture must change.

This is what `make lab` gives a reader. The server listens on loopback only, on a free
port, with a random token and throw-away Jupyter config/data/runtime folders; it is
stopped (its whole process group, kernels included) when the module ends, whatever
happens. Every wait is bounded. Skips loudly only when Chromium or JupyterLab are not
installed (CNNLIB_REQUIRE_BROWSER=1 makes that a failure).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from browser_helpers import (
    chromium,
    console_errors,
    drain_logs,
    find_chromium,
    outside_requests,
    wait_until,
)
from conftest import REPO_ROOT

pytestmark = pytest.mark.book

START_TIMEOUT = 90  # s, server up
UI_TIMEOUT = 120  # s, JupyterLab loaded, kernel started, cell run, widget drawn

NOTEBOOK_CELL = """\
from cnnlib.book.conv_explorer import conv_explorer
explorer = conv_explorer(w=7, f=3, s=2, p=1, k=2)
explorer"""

# Offline and quiet: no news feed, no update check, no extension catalogue.
LAB_CONFIG = """\
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
c.LabApp.extension_manager = "readonly"
"""


def skip_or_fail(message: str):
    if os.environ.get("CNNLIB_REQUIRE_BROWSER"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    """Stop the server and everything it started (its own process group)."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 serving a folder with explorer.ipynb.

    Yields (base URL, token, log path)."""
    found = find_chromium()
    if isinstance(found, str):
        skip_or_fail(f"BROWSER TESTS NOT RUN: {found}")
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        skip_or_fail("LIVE WIDGET TEST NOT RUN: jupyterlab is not installed "
                     "(it is in requirements.txt)")

    home = tmp_path_factory.mktemp("lab")
    notebooks = home / "notebooks"
    notebooks.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(NOTEBOOK_CELL)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, notebooks / "explorer.ipynb")
    config = home / "config"
    config.mkdir()
    (config / "jupyter_lab_config.py").write_text(LAB_CONFIG)

    port, token = free_port(), secrets.token_hex(16)
    bindir = Path(sys.executable).parent
    env = {**os.environ,
           "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
           "JUPYTER_CONFIG_DIR": str(config), "JUPYTER_DATA_DIR": str(home / "data"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "IPYTHONDIR": str(home / "ipython"),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
           "MPLCONFIGDIR": str(home / "mpl"), "PYTHONPATH": str(REPO_ROOT)}
    log_path = home / "server.log"
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={notebooks}", "--LabApp.expose_app_in_browser=True"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI runs as root
        cmd.append("--ServerApp.allow_root=True")
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=notebooks, env=env, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        def up() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {proc.returncode}:\n"
                                   f"{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                    return r.status == 200
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                return False

        wait_until(up, START_TIMEOUT, f"jupyter lab on {base}", interval=0.5)
        yield base, token, log_path
    finally:
        stop(proc)


# Everything below runs in the page; jupyterapp is exposed by expose_app_in_browser.
SLIDERS = """
const out = {};
for (const s of document.querySelectorAll('.jp-OutputArea .widget-hslider')) {
  const label = s.querySelector('.widget-label');
  const readout = s.querySelector('.widget-readout');
  if (label) out[label.textContent.trim()] = readout ? readout.textContent.trim() : null;
}
return out;
"""

STATE = """
const area = document.querySelector('.jp-Notebook .jp-OutputArea');
if (!area) return null;
const html = [...area.querySelectorAll('.widget-html-content')].map(e => e.textContent)
  .join(' | ');
const img = area.querySelector('.widget-output img, .jupyter-widgets-output-area img');
// A fingerprint of the whole picture (the data: URL of the PNG), to see it change.
let hash = 0;
if (img) for (let i = 0; i < img.src.length; i++) hash = (hash * 31 + img.src.charCodeAt(i)) | 0;
return {label: html, image: img ? img.src.length + ':' + hash : null,
        sliders: area.querySelectorAll('.widget-hslider').length};
"""


def move_slider(driver, label: str, value: int) -> None:
    """Move the slider named `label` to `value` with the arrow keys, like a keyboard user."""
    from selenium.webdriver.common.keys import Keys

    handle = driver.execute_script(
        "for (const s of document.querySelectorAll('.jp-OutputArea .widget-hslider')) {"
        "  const l = s.querySelector('.widget-label');"
        "  if (l && l.textContent.trim() === arguments[0]) return s.querySelector('.noUi-handle');"
        "} return null;", label)
    assert handle is not None, f"no slider {label!r} in the output"
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].focus()",
                          handle)
    now = int(driver.execute_script(SLIDERS)[label])
    key = Keys.ARROW_RIGHT if value > now else Keys.ARROW_LEFT
    for _ in range(abs(value - now)):
        handle.send_keys(key)


def focus_notebook(driver) -> bool:
    """Click into the notebook's first cell; True once JupyterLab calls it current."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By

    try:
        driver.find_element(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell").click()
    except WebDriverException:  # not drawn yet, or covered for a moment: try again
        return False
    return bool(driver.execute_script(
        "const w = window.jupyterapp.shell.currentWidget; return !!(w && w.sessionContext);"))


@pytest.fixture(scope="module")
def lab_page(lab):
    base, token, log_path = lab
    with chromium(width=1400, height=1000) as driver:
        driver.get(f"{base}/lab/tree/explorer.ipynb?reset&token={token}")
        try:
            wait_until(lambda: driver.execute_script(
                "return !!(window.jupyterapp && Array.from("
                "window.jupyterapp.shell.widgets('main')).find(w => w.sessionContext))"),
                UI_TIMEOUT, "JupyterLab to open explorer.ipynb", interval=0.5)
            # JupyterLab 4.6 makes a notebook "current" when it takes the keyboard focus,
            # which a headless window never gives it by itself: click into the cell.
            wait_until(lambda: focus_notebook(driver), 30, "the notebook to take the focus",
                       interval=0.5)
            # Run the cell once the kernel is ready (the command waits for the session).
            driver.execute_script(
                "const w = window.jupyterapp.shell.currentWidget;"
                "w.sessionContext.ready.then(() => "
                "  window.jupyterapp.commands.execute('notebook:run-all-cells'));")
            wait_until(lambda: (driver.execute_script(STATE) or {}).get("image"),
                       UI_TIMEOUT, "the explorer widget and its picture", interval=0.5)
        except Exception:
            Path(log_path.parent / "failure.png").write_bytes(driver.get_screenshot_as_png())
            print(f"server log and screenshot in {log_path.parent}", file=sys.stderr)
            raise
        yield driver


def wait_for_redraw(driver, before: dict, text: str) -> dict:
    """Wait until the explorer shows `text` with a picture other than `before`'s, and
    stays so for a second. The label and the picture arrive as separate messages, so
    right after a move the new label can sit beside the previous picture for a moment."""
    def settled():
        state = driver.execute_script(STATE)
        if not (state and text in state["label"] and state["image"] != before["image"]):
            return None
        time.sleep(1.0)
        return state if driver.execute_script(STATE) == state else None
    try:
        return wait_until(settled, 60, f"the explorer to show {text!r} with a new picture",
                          interval=0.3)
    except TimeoutError as err:
        raise AssertionError(f"{err}; before: {before}; "
                             f"it shows: {driver.execute_script(STATE)}") from None


def test_explorer_widget_draws_in_jupyterlab(lab_page):
    state = lab_page.execute_script(STATE)
    assert state["sliders"] == 7, state  # W, F, S, P, K, dilation d and the step
    assert "W₂ = (7 − 3 + 2·1)/2 + 1 = 4" in state["label"], state["label"]
    assert "4 × 4 × 2" in state["label"], state["label"]


def test_moving_a_slider_updates_numbers_and_picture(lab_page):
    move_slider(lab_page, "input W", 7)
    before = wait_for_redraw(lab_page, {"image": None}, "= 4")
    move_slider(lab_page, "input W", 5)  # the worked example: 5x5 input, F=3, S=2, P=1
    after = wait_for_redraw(lab_page, before, "W₂ = (5 − 3 + 2·1)/2 + 1 = 3")
    assert lab_page.execute_script(SLIDERS)["input W"] == "5"
    assert "3 × 3 × 2" in after["label"], after["label"]


def test_invalid_setting_is_explained_live(lab_page):
    move_slider(lab_page, "input W", 5)
    before = wait_for_redraw(lab_page, {"image": None}, "= 3")
    move_slider(lab_page, "input W", 6)  # 6 - 3 + 2 = 5 is odd, but only padding is left over
    floored = wait_for_redraw(lab_page, before, "W₂ = ⌊(6 − 3 + 2·1)/2⌋ + 1 = ⌊5/2⌋ + 1 = 3")
    assert lab_page.execute_script(SLIDERS)["input W"] == "6"
    move_slider(lab_page, "padding P", 0)  # 6 - 3 = 3 is odd and a real column is left over
    wait_for_redraw(lab_page, floored, "(W - F + 2P) = 3 is not divisible by stride S = 2")


def test_filters_slider_sets_the_output_depth(lab_page):
    move_slider(lab_page, "input W", 7)
    move_slider(lab_page, "padding P", 1)  # an earlier test may have left it at 0
    move_slider(lab_page, "filters K", 2)
    before = wait_for_redraw(lab_page, {"image": None}, "4 × 4 × 2")
    drain_logs(lab_page)
    move_slider(lab_page, "filters K", 3)
    wait_for_redraw(lab_page, before, "4 × 4 × 3")
    time.sleep(0.5)  # let late messages reach the console
    errors = console_errors(lab_page)
    assert not errors, "console errors while sliding:\n" + "\n".join(errors)


def test_dilation_slider_spaces_the_taps_live(lab_page):
    move_slider(lab_page, "input W", 7)
    move_slider(lab_page, "padding P", 1)
    move_slider(lab_page, "dilation d", 1)
    before = wait_for_redraw(lab_page, {"image": None}, "W₂ = (7 − 3 + 2·1)/2 + 1 = 4")
    move_slider(lab_page, "dilation d", 2)  # span d(F - 1) + 1 = 5: (7 + 2 - 5)/2 + 1 = 3
    dilated = wait_for_redraw(lab_page, before, "W₂ = (7 + 2·1 − 2·(3 − 1) − 1)/2 + 1 = 3")
    assert "taps are 2 pixels apart" in dilated["label"], dilated["label"]
    assert lab_page.execute_script(SLIDERS)["dilation d"] == "2"
    move_slider(lab_page, "dilation d", 1)  # leave the dense filter for the tests after
    wait_for_redraw(lab_page, dilated, "W₂ = (7 − 3 + 2·1)/2 + 1 = 4")


def test_lab_page_stays_on_this_machine(lab_page):
    outside = outside_requests(lab_page, allow_loopback=True)
    assert not outside, "JupyterLab reached outside the machine:\n" + "\n".join(outside)
