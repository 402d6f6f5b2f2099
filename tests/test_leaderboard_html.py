"""The HTML leaderboard in headless Chromium: it renders the table, loads nothing from the network,
and clicking a header sorts the rows. Driven through chromedriver's W3C WebDriver HTTP API on
127.0.0.1 (no extra Python package). Skips, saying so, where Chromium or chromedriver is absent
(scripts/setup.sh installs both when run as root with apt-get)."""

import base64
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchmark.leaderboard import write_leaderboard

GOLDEN = Path(__file__).parent / "golden"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C key of an element reference
# The network is closed: nothing may try to reach it, and a fresh profile keeps runs independent.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1400,1100"]

pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                reason="needs Debian's chromium and chromium-driver (scripts/setup.sh installs them as root)")


class WebDriver:
    """Just enough of the W3C WebDriver protocol: open a page, run a script, click, take a screenshot."""

    def __init__(self, profile: Path):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        self.driver = subprocess.Popen([CHROMEDRIVER, f"--port={port}"], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.call("GET", "/status")["ready"]:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.driver.kill()
                raise RuntimeError("chromedriver did not start within 30 s")
            time.sleep(0.2)
        options = {"binary": CHROMIUM, "args": CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]}
        session = self.call("POST", "/session", {"capabilities": {"alwaysMatch": {"goog:chromeOptions": options}}})
        self.session = f"/session/{session['sessionId']}"

    def call(self, method: str, path: str, body: dict | None = None):
        request = urllib.request.Request(self.base + path, method=method,
                                         data=None if body is None else json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())["value"]

    def open(self, url: str):
        self.call("POST", f"{self.session}/url", {"url": url})

    def script(self, source: str):
        return self.call("POST", f"{self.session}/execute/sync", {"script": source, "args": []})

    def click(self, css: str):
        element = self.call("POST", f"{self.session}/element", {"using": "css selector", "value": css})
        self.call("POST", f"{self.session}/element/{element[ELEMENT]}/click", {})

    def screenshot(self, path: Path) -> Path:
        path.write_bytes(base64.b64decode(self.call("GET", f"{self.session}/screenshot")))
        return path

    def quit(self):
        try:
            self.call("DELETE", self.session)
        finally:
            self.driver.terminate()
            self.driver.wait(timeout=30)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    results = tmp_path_factory.mktemp("golden")
    shutil.copy(GOLDEN / "records.jsonl", results / "records.jsonl")
    write_leaderboard(results, formats=["html"])
    browser = WebDriver(tmp_path_factory.mktemp("chromium-profile"))
    try:
        browser.open((results / "leaderboard.html").as_uri())
        yield browser, results
    finally:
        browser.quit()


def column(browser, table: str, index: int) -> list[str]:
    return browser.script(f"return Array.from(document.querySelectorAll('#{table} tbody tr'))"
                          f".map(function (row) {{ return row.cells[{index}].textContent; }});")


def test_the_page_shows_the_tables_and_loads_nothing_from_the_network(page):
    browser, results = page
    assert browser.script("return document.title;") == "transferbench leaderboard: golden"
    assert browser.script("return document.querySelectorAll('table.sortable').length;") == 4
    assert browser.script("return performance.getEntriesByType('resource').length;") == 0
    assert column(browser, "scores-1", 0)[0] == "finetune (adapt_steps=100)"  # best mean rank first
    shot = browser.screenshot(results / "leaderboard_html.png")
    if os.environ.get("TRANSFERBENCH_SCREENSHOTS"):  # keep it for a person to look at
        shutil.copy(shot, Path(os.environ["TRANSFERBENCH_SCREENSHOTS"]) / "leaderboard_html.png")
    pixels = np.asarray(Image.open(shot).convert("L"))
    assert pixels.shape[1] >= 1000
    assert (pixels < 100).mean() > 0.005  # dark text on the white page: something was drawn


def test_clicking_a_header_sorts_numerically_with_empty_cells_last(page):
    browser, _ = page
    rotated = "#scores-all thead th:nth-child(2) button"
    browser.click(rotated)
    assert browser.script("return document.querySelector('#scores-all thead th:nth-child(2)')"
                          ".getAttribute('aria-sort');") == "ascending"
    values = column(browser, "scores-all", 1)
    assert values[-1] == "failed"  # maml: no value sorts last
    means = [float(v.split(" ")[0]) for v in values[:-1]]
    assert means == sorted(means) and means[0] == pytest.approx(26.3)
    browser.click(rotated)
    values = column(browser, "scores-all", 1)
    assert values[-1] == "failed" and [float(v.split(" ")[0]) for v in values[:-1]] == sorted(means, reverse=True)
    browser.click("#scores-all thead th:nth-child(1) button")  # by strategy name
    names = column(browser, "scores-all", 0)
    assert names == sorted(names)
