"""Chapter 00 in a real browser: JupyterLab on the loopback address, headless Chromium driven by Playwright.

What a learner does: open ``notebooks/00_video_data.ipynb`` in JupyterLab, *Run > Run All Cells*, read the outputs
and drag the frame player's slider. The test does the same and checks that

- every code cell ran (an execution count, no ``[*]``) and the kernel went back to idle;
- no output is an error, and no stderr output holds a traceback (other stderr, such as a library's log line, is
  allowed: it is listed in the test's output);
- the frame player (``hybridvid_lib.widgets.FramePlayer``) renders as a live ipywidget, its frame at its own size;
- the player responds: a key press on the slider makes the kernel draw another frame (caption and image change).

A second test plants an error in a three-cell notebook and checks that these checks report it (the error, the cell
that did not run, the traceback shown).

A screenshot of the player goes to ``$HYBRIDVID_ARTIFACTS/chapter00_browser.png`` (default ``.make/artifacts/``);
a failed run leaves ``chapter00_browser_failure.png`` there instead.

Needs Debian's ``chromium`` (``/usr/bin/chromium``) and the ``playwright`` package (its own browser download is not
used). Without them the test is skipped, unless ``HYBRIDVID_REQUIRE_BROWSER=1`` (``make test-browser`` sets it),
which turns a missing piece into a failure. Deselected from the default run by the ``browser`` marker.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import nbformat
import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "00_video_data.ipynb"
CHROMIUM = Path("/usr/bin/chromium")
# Chromium's own flags for a closed network: without the background-networking ones it keeps opening connections
# that the machine refuses. Playwright gives every launch a new, empty profile directory.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Bounded waits (seconds): generous for a loaded 2-core machine, never a hang.
SERVER_START_S = 90
KERNEL_IDLE_S = 120
RUN_ALL_S = 420
WIDGET_REPLY_S = 60
SAVE_S = 60

# JupyterLab user settings for the test: no news or update toasts (they would ask the network), every cell
# attached to the page (the default windowing leaves cells far from the viewport half-rendered), and the
# notebook's own kernel started without the "Select Kernel" dialog.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none",
                                                                   "autoStartDefaultKernel": True},
}

# The notebook's state as the page shows it: kernel status and every code cell's prompt ("[3]:", "[*]:", "[ ]:").
NOTEBOOK_STATE_JS = """() => ({
    status: document.querySelector('.jp-NotebookPanel .jp-Notebook-ExecutionIndicator')?.dataset.status ?? null,
    prompts: Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt'))
                  .map(e => e.textContent.trim()),
    dialog: document.querySelector('.jp-Dialog')?.innerText ?? null,
})"""
# SHA-256 of the bytes behind an <img> (ipywidgets shows an Image's PNG through a blob: URL).
IMAGE_DIGEST_JS = """async (img) => {
    const bytes = await (await fetch(img.src)).arrayBuffer();
    const digest = await crypto.subtle.digest('SHA-256', bytes);
    return Array.from(new Uint8Array(digest)).map(b => b.toString(16).padStart(2, '0')).join('');
}"""


def _missing(what: str) -> None:
    """Skip with one line, or fail when ``HYBRIDVID_REQUIRE_BROWSER=1`` says the browser test must run."""
    if os.environ.get("HYBRIDVID_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{what}; HYBRIDVID_REQUIRE_BROWSER=1 requires the browser test to run "
                    "(install Debian's chromium and `pip install playwright`).", pytrace=False)
    pytest.skip(what)


@pytest.fixture(scope="module")
def sync_playwright():
    """Playwright's ``sync_playwright``, or a skip (a failure under ``HYBRIDVID_REQUIRE_BROWSER=1``)."""
    if not CHROMIUM.is_file():
        _missing(f"no {CHROMIUM} (Debian: apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (pip install playwright)")
    return sync_playwright


@dataclass
class LabServer:
    """A running JupyterLab: its address, token, the folder it serves and its log file."""

    url: str
    token: str
    root_dir: Path
    log: Path

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def api(self, endpoint: str):
        """The JSON answer of ``GET /api/<endpoint>`` (for example ``sessions``)."""
        request = urllib.request.Request(f"{self.url}/api/{endpoint}",
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as reply:
            return json.load(reply)

    def kernel_ready(self, notebook: str) -> bool:
        """True once ``notebook``'s session has a kernel that is idle with at least one client connected."""
        for session in self.api("sessions"):
            kernel = session.get("kernel") or {}
            if (session.get("path") == notebook and kernel.get("execution_state") == "idle"
                    and kernel.get("connections", 0) >= 1):
                return True
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            return reply.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen, url: str, token: str) -> None:
    """Ask the server to shut down (it stops its kernels), then end its process group, by force if need be."""
    request = urllib.request.Request(f"{url}/api/shutdown", method="POST",
                                     headers={"Authorization": f"token {token}"})
    try:
        urllib.request.urlopen(request, timeout=10).close()
        process.wait(timeout=30)
    except (urllib.error.URLError, OSError, subprocess.TimeoutExpired):
        pass
    for sig, wait_s in ((signal.SIGTERM, 15), (signal.SIGKILL, 15)):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=wait_s)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """JupyterLab on 127.0.0.1 serving an output-free copy of chapter 00, with nothing from the user's home.

    The kernel runs chapter 00 in the ``smoke`` profile with its data in a scratch folder, and imports this
    checkout's ``hybridvid_lib``.
    """
    base = tmp_path_factory.mktemp("jupyterlab")
    root_dir = base / "notebooks"
    root_dir.mkdir()
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    for cell in notebook.cells:  # every prompt and output the test sees must come from this run
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(notebook, root_dir / NOTEBOOK.name)

    config_dir = base / "config"
    for name, values in LAB_SETTINGS.items():
        path = config_dir / "lab" / "user-settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "HYBRIDVID_", "IPYTHON"))}
    env.update(
        JUPYTER_CONFIG_DIR=str(config_dir), JUPYTER_DATA_DIR=str(base / "data"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"), IPYTHONDIR=str(base / "ipython"),
        MPLCONFIGDIR=str(base / "matplotlib"),
        HYBRIDVID_PROFILE="smoke", HYBRIDVID_DATA=str(base / "datasets"),
        PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
    )
    port, token = _free_port(), secrets.token_hex(16)
    log = base / "jupyterlab.log"
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root_dir}", f"--IdentityProvider.token={token}",
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    with open(log, "wb") as log_file:
        # Its own process group, so that the finalizer can end the server and whatever it started.
        process = subprocess.Popen(command, cwd=root_dir, env=env, stdin=subprocess.DEVNULL, stdout=log_file,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    server = LabServer(f"http://127.0.0.1:{port}", token, root_dir, log)
    try:
        deadline = time.monotonic() + SERVER_START_S
        while not _answers(f"{server.url}/api/status?token={token}"):
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited with status {process.returncode} before answering; "
                            f"its log ends:\n{server.log_tail()}", pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer on {server.url} within {SERVER_START_S} s; "
                            f"its log ends:\n{server.log_tail()}", pytrace=False)
            time.sleep(0.5)
        yield server
    finally:
        _stop(process, server.url, token)


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go: ``$HYBRIDVID_ARTIFACTS``, default ``.make/artifacts/`` in the checkout."""
    folder = Path(os.environ.get("HYBRIDVID_ARTIFACTS") or ROOT / ".make" / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _wait(page, what: str, js: str, arg=None, timeout_s: float = 60, state_js: str | None = None) -> None:
    """Wait until ``js`` is true in the page; fail with a sentence naming what was awaited (and the page state)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(js, arg=arg, timeout=timeout_s * 1000, polling=500)
    except PlaywrightTimeout:
        state = f"; the page shows {page.evaluate(state_js)}" if state_js else ""
        pytest.fail(f"waited {timeout_s:.0f} s for {what}, in vain{state}.", pytrace=False)


def _poll(what: str, ready, timeout_s: float, state=None) -> None:
    """Call ``ready()`` until it is true; fail with a sentence naming what was awaited (and ``state()``)."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout_s:.0f} s for {what}, in vain" + (f"; {state()}" if state else "") + ".",
                        pytrace=False)
        time.sleep(0.5)


def _code_cells(path: Path) -> list:
    """The code cells of the notebook file at ``path`` (none while it cannot be read, e.g. half written)."""
    try:
        return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    except (OSError, ValueError):
        return []


@pytest.fixture(scope="module")
def chromium(sync_playwright):
    """Debian's headless Chromium, driven by Playwright (a new, empty profile)."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _prompt_counts(page) -> list[int | None]:
    """Every code cell's execution count as the page shows it (None for ``[ ]:`` and ``[*]:``)."""
    prompts = page.evaluate(NOTEBOOK_STATE_JS)["prompts"]
    return [int(p[1:-2]) if p[1:-2].strip().isdigit() else None for p in prompts]


def run_all_cells(page, lab: LabServer, name: str) -> list[str]:
    """Open notebook ``name`` of the server's folder, *Run > Run All Cells*, wait until it is done, save it.

    Returns the problems found, one sentence each: code cells that did not run, outputs that are errors (read
    from the saved file: JupyterLab shows an error like stderr text, ``data-mime-type`` included) and stderr
    text holding a traceback. Other stderr text (a library's log line) is allowed and printed.
    """
    # ?reset: a fresh workspace, so that no notebook opened by an earlier test is restored beside this one.
    page.goto(f"{lab.url}/lab/tree/{name}?reset&token={lab.token}")
    _wait(page, f"JupyterLab to show {name} as its only notebook",
          "() => document.querySelectorAll('.jp-NotebookPanel').length === 1 "
          "&& document.querySelectorAll('.jp-Notebook .jp-Cell').length > 0", timeout_s=KERNEL_IDLE_S)
    # The page says "idle" before its kernel exists: ask the server until the notebook's kernel is up, idle and
    # connected to the page.
    _poll(f"{name}'s kernel to start and connect", lambda: lab.kernel_ready(name), KERNEL_IDLE_S,
          lambda: f"the server lists the sessions {lab.api('sessions')}; its log ends:\n{lab.log_tail()}")
    _wait(page, "the page to show the kernel idle",
          "() => document.querySelector('.jp-NotebookPanel .jp-Notebook-ExecutionIndicator')"
          "?.dataset.status === 'idle'", timeout_s=KERNEL_IDLE_S, state_js=NOTEBOOK_STATE_JS)

    # Run > Run All Cells, through the menu as a learner would.
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator('#jp-mainmenu-run .lm-Menu-item[data-command="runmenu:run-all"]').click()
    started = time.monotonic()
    _wait(page, "Run All Cells to start (a cell prompt turning to [*] or a number)",
          "() => Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt'))"
          ".some(e => /^\\[(\\*|\\d+)\\]:$/.test(e.textContent.trim()))", timeout_s=60, state_js=NOTEBOOK_STATE_JS)
    # Done: the kernel idle and no cell waiting ([*]), twice in a row (the status blinks idle between cells).
    done = []

    def finished() -> bool:
        state = page.evaluate(NOTEBOOK_STATE_JS)
        done.append(state["status"] == "idle" and "[*]:" not in state["prompts"])
        return done[-2:] == [True, True]

    _poll(f"Run All Cells to finish {name} (kernel idle, no cell at [*])", finished, RUN_ALL_S,
          lambda: f"the page shows {page.evaluate(NOTEBOOK_STATE_JS)}")
    print(f"{name}: Run All Cells took {time.monotonic() - started:.1f} s")
    counts = _prompt_counts(page)
    problems = [f"code cell {i} of {len(counts)} did not run" for i, c in enumerate(counts, 1) if c is None]

    page.locator('.jp-NotebookPanel-toolbar [data-command="docmanager:save"]').click()
    saved = lab.root_dir / name
    _poll(f"the saved {name} to hold the execution counts the page shows",
          lambda: [c.execution_count for c in _code_cells(saved)] == counts, SAVE_S)
    problems += [f"cell [{c.execution_count}] ends in {o.ename}: {o.evalue}"
                 for c in _code_cells(saved) for o in c.outputs if o.output_type == "error"]
    stderr = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').all_inner_texts()
    for text in stderr:
        print("stderr output (allowed unless it shows a traceback):", text[:300])
    problems += [f"an output shows a traceback: {t[:500]}" for t in stderr if "Traceback" in t]
    return problems


def test_run_all_cells_reports_what_went_wrong(chromium, lab: LabServer):
    """The checks themselves: a notebook whose second cell raises is reported, error and unrun cell both."""
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(code) for code in
               ('print("fine")', 'raise ValueError("planted for the test")', 'print("never reached")')],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(notebook, lab.root_dir / "planted_error.ipynb")
    page = chromium.new_page()
    page.set_default_timeout(60_000)
    try:
        problems = run_all_cells(page, lab, "planted_error.ipynb")
    finally:
        page.close()
    assert "code cell 3 of 3 did not run" in problems
    assert "cell [2] ends in ValueError: planted for the test" in problems
    assert any(p.startswith("an output shows a traceback") and "ValueError" in p for p in problems)
    assert len(problems) == 3, problems


def test_chapter00_runs_and_its_frame_player_responds(chromium, lab: LabServer, artifacts: Path):
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    try:
        problems = run_all_cells(page, lab, NOTEBOOK.name)
        assert not problems, f"chapter 00 in JupyterLab: {problems}"
        _check_frame_player(page)
        page.screenshot(path=str(artifacts / "chapter00_browser.png"))
    except BaseException:
        page.screenshot(path=str(artifacts / "chapter00_browser_failure.png"))
        raise
    finally:
        page.close()


def _check_frame_player(page) -> None:
    # The frame player: a live ipywidget (a missing widget manager would show its text form, "VBox(...)").
    player = page.locator(".jp-OutputArea-output .jupyter-widgets.widget-vbox").filter(
        has=page.locator(".widget-slider"))
    assert player.count() == 1, "expected one frame player (a VBox with a slider) in chapter 00's outputs"
    player.scroll_into_view_if_needed()
    image = player.locator("img.widget-image")
    caption = player.locator(".widget-label").last
    handle = player.locator(".widget-slider .noUi-handle")
    num_frames = int(float(handle.get_attribute("aria-valuemax"))) + 1
    assert caption.inner_text().endswith(f"frame 1 of {num_frames}")
    size = image.evaluate("img => [img.naturalWidth, img.naturalHeight, img.clientWidth, img.clientHeight]")
    assert size[0] > 0 and size[2:] == size[:2], f"the frame is drawn at {size[2:]} instead of its own {size[:2]}"
    seen = [image.evaluate(IMAGE_DIGEST_JS)]

    # A key press on the slider: the kernel draws the next frame, then End jumps to the last one.
    for key, frame in (("ArrowRight", 2), ("End", num_frames)):
        old_src = image.get_attribute("src")
        handle.press(key)
        expected = f"frame {frame} of {num_frames}"
        _wait(page, f"the player to show '{expected}' and a new image after {key} on its slider",
              "([label, img, text, oldSrc]) => label.textContent.endsWith(text) && img.src !== oldSrc",
              arg=[caption.element_handle(), image.element_handle(), expected, old_src], timeout_s=WIDGET_REPLY_S)
        assert handle.get_attribute("aria-valuenow").startswith(str(frame - 1))
        seen.append(image.evaluate(IMAGE_DIGEST_JS))
    assert len(set(seen)) == 3, "the player's image did not change with the slider (frames 1, 2, last)"
