"""The report pages in a real headless Chromium (Debian's package), served by the real app
under uvicorn on 127.0.0.1: no console errors, the expected Chinese content, a non-blank screenshot.

Chromium is never downloaded at test time. With CI=true a missing browser fails the test;
elsewhere it skips with a loud message (install it with scripts/ensure-test-deps).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from matplotlib import image as mpimg

from app.api.main import create_app
from tests.live import serve_app

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    # Nothing but the app itself can be reached: an outside fetch would fail and show up.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


def chromium() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if path is None:
        message = (
            "chromium not installed: the report pages cannot be tested in a browser (run scripts/ensure-test-deps)"
        )
        if IN_CI:
            pytest.fail(message + " (CI=true requires it)")
        print(f"\n!!! {message}; SKIPPING the browser test !!!\n", file=sys.stderr)  # noqa: T201 - a skipped browser test must be loud
        pytest.skip(message)
    return path


@pytest.fixture
def live_server(settings):
    with serve_app(create_app(settings), lifespan="off") as url:
        yield url


def run_chromium(browser: str, tmp_path, name: str, url: str, *extra: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{name}"
    args = [browser, *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *extra, url]
    return subprocess.run(args, capture_output=True, text=True, timeout=90, cwd=tmp_path)


def console_problems(stderr: str) -> list[str]:
    # The pages carry no scripts, so ANY console message (errors, CSP refusals, uncaught exceptions) is a bug.
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def assert_not_blank(png_path) -> None:
    img = mpimg.imread(png_path)
    assert img.ndim == 3 and img.shape[0] >= 1000 and img.shape[1] >= 1200, img.shape
    rgb = (img[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    non_white = np.any(rgb < 245, axis=1).mean()
    colours = len(np.unique(rgb, axis=0))
    assert non_white > 0.05, f"screenshot is (nearly) blank: {non_white:.3f} non-white"
    assert colours > 50, f"screenshot has only {colours} colours"


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_report_pages_in_headless_chromium(db, rw, live_server, tmp_path):
    browser = chromium()
    key = rw.w.keys["reader"]
    pages = {
        "run": (
            f"{live_server}/reports/runs/{rw.runs['run2']}?key={key}",
            ["优化方案与基线对比", "跨片流向", "需求D4"],
        ),
        "duty": (f"{live_server}/reports/duty/2026?key={key}", ["各小组履职完成情况", "缺信息（2 名）"]),
    }
    for name, (url, expected) in pages.items():
        dom = run_chromium(browser, tmp_path, name + "-dom", url, "--dump-dom")
        assert dom.returncode == 0, dom.stderr[-2000:]
        assert '<html lang="zh-CN">' in dom.stdout
        for text in expected:
            assert text in dom.stdout, (name, text)
        assert dom.stdout.count("<svg") >= 1
        assert console_problems(dom.stderr) == [], console_problems(dom.stderr)

        shot = tmp_path / f"{name}.png"
        r = run_chromium(browser, tmp_path, name + "-shot", url, f"--screenshot={shot}", "--window-size=1280,2000")
        assert r.returncode == 0 and shot.exists(), r.stderr[-2000:]
        assert console_problems(r.stderr) == [], console_problems(r.stderr)
        assert_not_blank(shot)
        if os.environ.get("REPORT_SCREENSHOTS_DIR"):  # keep them for a human look
            shutil.copy(shot, os.path.join(os.environ["REPORT_SCREENSHOTS_DIR"], shot.name))

    # a browser without a key gets the HTML error page, not JSON
    dom = run_chromium(browser, tmp_path, "nokey", f"{live_server}/reports/duty/2026", "--dump-dom")
    assert "请使用有效的访问密钥" in dom.stdout
