"""End-to-end fixtures: a real ``streamlit run dashboard.py`` on a free port with its own
databases, and Playwright driving Debian's chromium (never ``playwright install``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tradecore.configure import RunRequest, build_orchestrator
from tradecore.secmaster import build_sample
from tradecore.strategies import StrategyBase
from tradecore.sweep import run_sweep

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


class E2eSetupFails(StrategyBase):
    """A strategy whose setup() raises: its run records no equity (issue 9, defect 1)."""

    name = "E2E setup fails"
    symbols = ["ACME"]

    def setup(self) -> None:
        raise ValueError("bad setup on purpose")

    def on_bar(self, bar) -> None:  # pragma: no cover - never reached
        pass


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail("end-to-end tests need Debian's chromium: apt-get install chromium")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1440, "height": 1000}}


@pytest.fixture(scope="session")
def e2e_data(tmp_path_factory) -> dict:
    """The sample secmaster, two finished runs and a four-run sweep, made before the server
    starts (so no test waits for them)."""
    folder = tmp_path_factory.mktemp("e2e")
    secmaster, runs_db = folder / "secmaster.db", folder / "runs.db"
    build_sample(secmaster)
    common = {"symbols": ["ACME"], "start": "2020-01-01", "secmaster_path": str(secmaster),
              "runs_db_path": str(runs_db)}
    runs = [build_orchestrator(RunRequest("SMACrossover", parameters=params, **common)).run()
            for params in ({"fast_period": 10, "slow_period": 30},
                           {"fast_period": 20, "slow_period": 60})]
    sweep_id = run_sweep(RunRequest("SMACrossover", **common),
                         {"fast_period": [5, 10], "slow_period": [20, 40]}, workers=2).sweep_id
    failed = build_orchestrator(RunRequest("E2eSetupFails", **common))
    with pytest.raises(ValueError, match="bad setup"):
        failed.run()
    return {"secmaster": secmaster, "runs_db": runs_db, "runs": runs, "sweep_id": sweep_id,
            "failed": failed.run_id}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def app_url(e2e_data, tmp_path_factory) -> str:
    port = _free_port()
    env = {**os.environ, "TRADECORE_SECMASTER": str(e2e_data["secmaster"]),
           "TRADECORE_RUNS_DB": str(e2e_data["runs_db"])}
    env.pop("TRADECORE_STRATEGIES", None)
    log = (tmp_path_factory.mktemp("server") / "streamlit.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.headless=true",
         "--server.address=127.0.0.1", f"--server.port={port}",
         "--browser.gatherUsageStats=false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
                    if response.read() == b"ok":
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"streamlit did not start: {Path(log.name).read_text()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(autouse=True)
def patient_browser(page):
    """A busy CI machine renders slowly: wait longer than Playwright's 5 s defaults."""
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    page.set_default_timeout(60_000)
    return page
