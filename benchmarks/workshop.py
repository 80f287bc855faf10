"""How fast the workshop app is usable: the command to a form, a workbook opened, an engagement switched.

    .venv/bin/python benchmarks/workshop.py            # 5 rounds each, medians
    .venv/bin/python benchmarks/workshop.py --rounds 3 --json /tmp/workshop.json

In a temporary folder, on a store holding the two example engagements, with
Debian's Chromium already open (as a CSM's browser is), it measures:

* **command to a usable form (cold)**: from starting ``csm-nb workshop
  outcome_discovery --engagement employee-engagement --no-browser`` to the
  form's first answer box being visible and enabled in the page at the
  address the command prints; the app is stopped (SIGTERM) after each round;
* **a workbook opened from the start page (warm)**: the app running, from
  clicking the outcome discovery button to the form being usable;
* **switching engagement**: in the form's engagement picker, from pressing
  Open to the other engagement's form being on screen;

Targets (the workshop issue): under 5 s from the command to a usable form,
under 1 s to switch engagement. Medians of the rounds are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CSM_NB = str(Path(sys.executable).parent / "csm-nb")
FORM = ".csm-workshop .csm-field-desired_change input"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def make_store(folder: Path) -> Path:
    db = folder / "store.sqlite"
    subprocess.run(
        [
            CSM_NB,
            "--db",
            str(db),
            "import",
            str(ROOT / "examples/employee-engagement.yaml"),
            str(ROOT / "examples/order-to-ship.yaml"),
        ],
        check=True,
        capture_output=True,
    )
    return db


def start_app(db: Path, log: Path, *args: str) -> tuple[subprocess.Popen, str]:
    """Start ``csm-nb workshop`` and return it with the address it prints (the clock runs from the start)."""
    sink = log.open("w")
    process = subprocess.Popen(
        [CSM_NB, "--db", str(db), "workshop", *args, "--no-browser"],
        stdout=sink,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(r"workshop: (\S+)", log.read_text())
        if found:
            return process, found.group(1)
        time.sleep(0.01)
    raise SystemExit(f"the app printed no address:\n{log.read_text()}")


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def goto_when_up(page, url: str) -> None:
    """Open ``url`` once the server listens, as the app itself opens the browser only then (polling
    the port is cheap; reloading an error page in Chromium every few milliseconds is not)."""
    port = int(re.search(r":(\d+)/", url).group(1))
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)
    page.goto(url, timeout=60_000)


def usable(page, selector: str = FORM) -> None:
    page.locator(selector).first.wait_for(state="visible", timeout=60_000)
    page.wait_for_function("(sel) => { const e = document.querySelector(sel); return e && !e.disabled; }", arg=selector)


def cold(browser, db: Path, folder: Path) -> float:
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    started = time.perf_counter()
    process, url = start_app(db, folder / "cold.log", "outcome_discovery", "--engagement", "employee-engagement")
    try:
        goto_when_up(page, url)
        usable(page)
        return time.perf_counter() - started
    finally:
        page.close()
        stop(process)


def warm_and_switch(browser, db: Path, folder: Path, rounds: int) -> tuple[list[float], list[float]]:
    process, url = start_app(db, folder / "warm.log")
    opened, switched = [], []
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    try:
        goto_when_up(page, url)
        page.wait_for_selector("#ws-engagement")
        start_page = page.url
        for i in range(rounds + 1):  # the first round warms the browser's cache and is not counted
            page.goto(start_page)
            page.select_option("#ws-engagement", "employee-engagement")
            started = time.perf_counter()
            page.click("button.ws-workbook[value=outcome_discovery]")
            usable(page)
            if i:
                opened.append(time.perf_counter() - started)
        picker = page.locator(".csm-picker select")
        for i in range(rounds):
            engagement, customer = (
                ("order-to-ship", "Northwind Homewares") if i % 2 == 0 else ("employee-engagement", "Helios Care Services")
            )
            label = page.evaluate(
                "(id) => [...document.querySelectorAll('.csm-picker select option')].map(o => o.textContent).find(t => t.endsWith('(' + id + ')'))",
                engagement,
            )
            picker.select_option(label=label)
            started = time.perf_counter()
            page.locator(".csm-picker button", has_text="Open").click()
            page.locator(".csm-workshop", has_text=customer).first.wait_for(state="visible", timeout=30_000)
            usable(page)
            switched.append(time.perf_counter() - started)
    finally:
        page.close()
        stop(process)
    return opened, switched


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each measurement (default 5; medians are printed)")
    parser.add_argument("--json", metavar="FILE", help="also write the measurements as JSON")
    options = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="csm-workshop-bench-"))
    try:
        db = make_store(folder)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            colds = [cold(browser, db, folder) for _ in range(options.rounds)]
            opened, switched = warm_and_switch(browser, db, folder, options.rounds)
            browser.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    figures = {
        "cold_command_to_form_s": colds,
        "open_from_start_page_s": opened,
        "switch_engagement_s": switched,
        "cores": os.cpu_count(),
    }
    print(f"workshop app, {options.rounds} rounds, {os.cpu_count()} cores (median, then min-max):")
    for label, values, target in (
        ("command to a usable form (cold)", colds, 5.0),
        ("workbook opened from the start page", opened, None),
        ("engagement switched in the form", switched, 1.0),
    ):
        goal = f"   target < {target:g} s: {'met' if statistics.median(values) < target else 'NOT met'}" if target else ""
        print(f"  {label:<38} {statistics.median(values):5.2f} s  ({min(values):.2f}-{max(values):.2f}){goal}")
    if options.json:
        Path(options.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
