"""The report pages in a real headless Chromium (Debian's chromium and chromedriver, driven by
Selenium), served by the real app under uvicorn on 127.0.0.1: no console messages, the expected
Chinese content, a non-blank screenshot.

One browser session visits every page (starting Chromium is what costs; each page used to get
two fresh browsers of its own). Chromium is never downloaded at test time. With CI=true a missing
browser fails the test; elsewhere it skips with a loud message (install it with
scripts/ensure-test-deps).
"""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from matplotlib import image as mpimg

from tests.live import chromium_session, require_chromium, serve_app
from tests.support import app_for


@pytest.fixture
def live_server(settings):
    with serve_app(app_for(settings), lifespan="off") as url:
        yield url


def console_messages(driver) -> list[str]:
    """Everything the page logged since the last call. The pages carry no scripts, so ANY console
    message (errors, CSP refusals, uncaught exceptions, warnings) is a bug."""
    return [f"{e['level']}: {e['message']}" for e in driver.get_log("browser")]


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
    require_chromium("the report pages")
    key = rw.w.keys["reader"]
    pages = {
        "run": (
            f"{live_server}/reports/runs/{rw.runs['run2']}?key={key}",
            ["优化方案与基线对比", "跨片流向", "需求D4"],
        ),
        "duty": (f"{live_server}/reports/duty/2026?key={key}", ["各小组履职完成情况", "缺信息（2 名）"]),
    }
    with chromium_session(tmp_path / "profile", width=1280, height=2000) as driver:
        for name, (url, expected) in pages.items():
            driver.get(url)
            dom = driver.page_source
            assert '<html lang="zh-CN">' in dom
            for text in expected:
                assert text in dom, (name, text)
            assert dom.count("<svg") >= 1
            assert console_messages(driver) == [], name

            shot = tmp_path / f"{name}.png"
            assert driver.save_screenshot(str(shot)) and shot.exists()
            assert_not_blank(shot)
            if os.environ.get("REPORT_SCREENSHOTS_DIR"):  # keep them for a human look
                shutil.copy(shot, os.path.join(os.environ["REPORT_SCREENSHOTS_DIR"], shot.name))

        # a browser without a key gets the HTML error page, not JSON
        driver.get(f"{live_server}/reports/duty/2026")
        assert "请使用有效的访问密钥" in driver.page_source
