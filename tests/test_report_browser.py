"""The report in a real browser: headless Chromium loads it from file://, runs its script, draws it.

Command line only (no selenium/playwright): ``--dump-dom`` gives the DOM after the script ran,
``--screenshot`` a PNG, and ``--enable-logging=stderr`` the console, where a script error would
show as "Uncaught" or "ERROR:CONSOLE".
"""

from __future__ import annotations

import html
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from harness.report import render
from tests.test_report import REPRO, catalogue, write

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0")


def chromium_binary() -> str:
    """/usr/bin/chromium or chromium on PATH; skip with how to install it otherwise."""
    found = next((p for p in ("/usr/bin/chromium", shutil.which("chromium")) if p and Path(p).is_file()), None)
    if found is None:
        pytest.skip("chromium not installed (apt-get install chromium)")
    return found


def chromium(tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium on a file:// URL with a fresh profile, failing after 60 s."""
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    command = [chromium_binary(), *FLAGS, f"--user-data-dir={profile}", *args, page.resolve().as_uri()]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def console_errors(stderr: str) -> list[str]:
    """Lines where the page's script failed or logged an error."""
    return [line for line in stderr.splitlines() if "Uncaught" in line or "ERROR:CONSOLE" in line]


@pytest.fixture
def report(tmp_path: Path) -> Path:
    """A rendered hand-made result set that includes a failure, an error and a skip."""
    return render([write(tmp_path / "run", catalogue())])


def test_the_rendered_dom_has_summary_every_pair_and_the_repro(tmp_path, report):
    result = chromium(tmp_path, report, "--dump-dom")
    dom = html.unescape(result.stdout)
    assert "<h2>Summary</h2>" in dom and "6 records over 6 pairs" in dom
    for r in catalogue():
        assert f'<section class="pair" id="pair-{r.pair}' in dom, r.pair
    fail = dom[dom.index('id="pair-broken_dense'):]
    assert REPRO in fail[:fail.index("</section>")]
    # the script ran: the filter form is shown and counts the rows
    assert '<form id="filters" class="filters" onsubmit' in dom and "6 of 6 pairs shown" in dom
    assert console_errors(result.stderr) == [], result.stderr


def test_a_screenshot_is_drawn(tmp_path, report):
    shot = tmp_path / "shot.png"
    result = chromium(tmp_path, report, f"--screenshot={shot}", "--window-size=1280,2000")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1280, 2000)
    assert len(data) > 30_000, f"a {len(data)}-byte screenshot is nearly blank"
    assert console_errors(result.stderr) == [], result.stderr


def test_the_console_check_sees_a_script_error(tmp_path):
    broken = tmp_path / "broken.html"
    broken.write_text('<!DOCTYPE html><html lang="en"><body><script>null.x();</script></body></html>')
    result = chromium(tmp_path, broken, "--dump-dom")
    assert console_errors(result.stderr), "an uncaught error went unseen: the console check would be vacuous"
