"""The office's week in a real headless Chromium (Debian's chromium + chromedriver, Selenium)
against the real app under uvicorn on 127.0.0.1: sign in with a key, dashboard, a demand with a
suggested skill, a run watched live to the end, its diff, publish, a member found by pinyin,
a decline with a reason, a completion, the XLSX export read back and compared with the API,
sign out, and the old cookie refused. Every page: no browser console errors, a non-blank
screenshot kept as an artefact; plan and member pages also at 360 px without sideways scrolling.

Nothing is downloaded at test time. With CI=true a missing browser or driver fails the test.
"""

from __future__ import annotations

import io
import os
import shutil
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from matplotlib import image as mpimg
from openpyxl import load_workbook

from tests.live import chromium_options, require_chromium, serve_app, start_chromium
from tests.support import app_for


class Browser:
    """One Chromium session; every visited page is checked for console errors and photographed."""

    def __init__(self, base: str, tmp_path: Path):
        self.base, self.shots, self.downloads = base, tmp_path / "screenshots", tmp_path / "downloads"
        self.shots.mkdir()
        self.downloads.mkdir()
        options = chromium_options(tmp_path / "profile", "--window-size=1280,1000")
        options.add_experimental_option("prefs", {"download.default_directory": str(self.downloads)})
        self.driver = start_chromium(options)
        self.driver.implicitly_wait(0)
        self.driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(self.downloads)}
        )

    def go(self, path: str) -> None:
        self.driver.get(self.base + path)
        self.wait_ready()

    def wait_ready(self) -> None:
        self.wait(lambda d: d.execute_script("return document.readyState") == "complete")

    def wait(self, condition, timeout: float = 20):
        from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
        from selenium.webdriver.support.ui import WebDriverWait

        ignored = (NoSuchElementException, StaleElementReferenceException)  # htmx swaps elements
        return WebDriverWait(self.driver, timeout, poll_frequency=0.1, ignored_exceptions=ignored).until(condition)

    def find(self, css: str):
        from selenium.webdriver.common.by import By

        return self.wait(lambda d: d.find_element(By.CSS_SELECTOR, css))

    def text(self) -> str:
        return self.driver.find_element("tag name", "body").text

    def console_errors(self) -> list[str]:
        return [e["message"] for e in self.driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]

    def check_page(self, name: str, width: int = 1280, lang: str = "zh-CN") -> Path:
        """No console errors so far, the page's language, and a non-blank screenshot (saved as artefact)."""
        assert self.console_errors() == [], (name, self.driver.current_url)
        assert self.driver.find_element("tag name", "html").get_attribute("lang") == lang
        if width != 1280:
            self.driver.set_window_size(width, 900)
            self.wait_ready()
            overflow = self.driver.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, f"{name}: {overflow}px sideways scrolling at {width}px"
        shot = self.shots / f"{name}.png"
        self.driver.save_screenshot(str(shot))
        assert_not_blank(shot)
        if width != 1280:
            self.driver.set_window_size(1280, 1000)
        if os.environ.get("REPORT_SCREENSHOTS_DIR"):  # keep them for a human look
            shutil.copy(shot, os.path.join(os.environ["REPORT_SCREENSHOTS_DIR"], shot.name))
        return shot


def assert_not_blank(png: Path) -> None:
    img = mpimg.imread(png)[::3, ::3]  # every third pixel is plenty to tell a page from a blank
    rgb = (img[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    non_white = np.any(rgb < 245, axis=1).mean()
    assert non_white > 0.03, f"{png.name} is (nearly) blank: {non_white:.3f} non-white"
    assert len(np.unique(rgb, axis=0)) > 30, f"{png.name} has too few colours"


@pytest.fixture
def browser(cw, settings, tmp_path):
    require_chromium("the console")

    with serve_app(app_for(settings), lifespan="off") as base:
        b = Browser(base, tmp_path)
        try:
            yield b
        finally:
            b.driver.quit()


def sign_in(b: Browser, key: str) -> None:
    b.go("/")
    assert b.driver.current_url.endswith("/login")
    b.check_page("login")
    b.find("#api_key").send_keys(key)
    b.find("form[action='/login'] button[type=submit]").click()
    b.wait(lambda d: d.current_url.rstrip("/").endswith("/console"))
    b.wait_ready()


def create_demand_with_suggested_skill(b: Browser, cw) -> None:
    b.go("/console/demands/new")
    b.find("#title").send_keys("小区物业纠纷调解")
    b.find("#description").send_keys("业主与物业因停车收费发生纠纷，希望委员提供法律咨询。")
    b.driver.execute_script(
        "document.getElementById('community_id').value = arguments[0];"
        "document.getElementById('channel').value = 'reception_day';"
        "document.getElementById('starts_at').value = arguments[1];"
        "document.getElementById('ends_at').value = arguments[2];",
        str(cw.w.communities["光华里社区"]),
        f"{cw_start(cw)}T15:00",
        f"{cw_start(cw)}T17:00",
    )
    b.driver.execute_script("window.stillSamePage = true;")
    b.find("#suggest-skills").click()  # htmx swaps in the suggestions, the page stays
    why = b.find("#skill-options .why")
    assert b.driver.execute_script("return window.stillSamePage === true;")
    assert "法律" in why.text
    law = b.find("#skill-options input[value='law']")
    assert law.is_selected()
    b.check_page("demand-suggested")
    b.find("#save-demand").click()
    b.wait(lambda d: "/console/demands/" in d.current_url and "saved=1" in d.current_url)
    b.wait_ready()
    assert "已保存" in b.text() and "小区物业纠纷调解" in b.text()
    b.check_page("demand-saved")


def cw_start(cw) -> str:
    from app.services.runs.service import parse_week

    return (parse_week(cw.week).start).isoformat()


def run_diff_publish(b: Browser, cw) -> None:
    b.go(f"/console/runs?week={cw.week}")
    b.check_page("runs")
    time_limit = b.find("#time_limit_s")
    time_limit.clear()
    time_limit.send_keys("5")
    b.find("#start-run").click()
    b.wait(lambda d: "/console/runs/" in d.current_url)
    b.wait_ready()
    b.driver.execute_script("window.stillSamePage = true;")
    # The status badge changes without a page load (htmx polls the fragment).
    b.wait(lambda d: d.find_element("id", "run-status").get_attribute("data-status") == "succeeded", timeout=60)
    assert b.driver.execute_script("return window.stillSamePage === true;")
    diff = b.find("#plan-diff")
    assert "与当前方案的差异" in diff.text and "已接受、保持不变" in diff.text
    b.check_page("run-finished")
    b.find("#publish-run").click()
    b.wait(lambda d: "published=true" in d.current_url)
    b.wait_ready()
    assert "方案已发布" in b.text()
    b.check_page("run-published")


def find_member_by_pinyin(b: Browser, cw) -> None:
    b.go("/console/members")
    b.driver.execute_script("window.stillSamePage = true;")
    b.find("#m-q").send_keys("lina")
    b.wait(lambda d: "张伟" not in d.find_element("id", "member-results").text)
    results = b.find("#member-results")
    assert "李娜" in results.text and b.driver.execute_script("return window.stillSamePage === true;")
    b.check_page("members")
    results.find_element("link text", "李娜").click()
    b.wait(lambda d: "/console/members/" in d.current_url)
    b.wait_ready()
    assert "负荷" in b.text()
    b.check_page("member")
    b.check_page("member-360", width=360)


def decline_and_complete(b: Browser, cw) -> None:
    b.go(f"/console/plan?week={cw.week}")
    b.check_page("plan")
    law_row = next(r for r in b.driver.find_elements("css selector", "tr[id^=row-]") if "张伟" in r.text
                   and "物业纠纷法律咨询" in r.text and "已发布" in r.text)  # fmt: skip
    row_id = law_row.get_attribute("id").split("-")[1]
    b.find(f"#decline-open-{row_id}").click()
    b.find(f"#reason-{row_id}").send_keys("本周外出学习，无法参加")
    b.find(f"#decline-{row_id}").click()
    b.wait(lambda d: "理由：本周外出学习" in d.find_element("id", f"row-{row_id}").text)
    fin = cw.assignments["fin"]
    b.find(f"#complete-open-{fin}").click()
    b.driver.execute_script(f"document.getElementById('method-{fin}').value = 'arranged_talk';")
    b.find(f"#outcome-{fin}").send_keys("约谈双方，讲解防骗要点")
    b.find(f"#complete-{fin}").click()
    b.wait(lambda d: "已完成" in d.find_element("css selector", f"#row-{fin} .badge").text)
    assert "约谈沟通" in b.find(f"#row-{fin} .badge + br + .muted").text
    b.check_page("plan-after-actions")
    b.check_page("plan-360", width=360)
    b.go(f"/console/plan/print?week={cw.week}")
    b.check_page("plan-print")


def xlsx_matches_api(b: Browser, cw) -> None:
    b.go(f"/console/plan?week={cw.week}")
    b.find("#export-xlsx").click()
    path = b.wait(lambda _driver: next(iter(b.downloads.glob("*.xlsx")), None), timeout=20)
    time.sleep(0.2)
    rows = list(load_workbook(io.BytesIO(path.read_bytes())).active.iter_rows(values_only=True))
    api = httpx.get(
        f"{b.base}/v1/assignments",
        params={"status": ["published", "accepted", "completed", "declined"], "limit": 500},
        headers=cw.w.h("admin"),
    ).json()["items"]
    exported = {r[0]: (r[2], r[3]) for r in rows[1:]}
    assert exported == {a["id"]: (a["member_name"], a["demand_title"]) for a in api}


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # one browser session; HTTP tests cover PostgreSQL
def test_office_week_in_chromium(db, browser, cw):
    b = browser
    sign_in(b, cw.w.keys["admin"])
    assert "本周概览" in b.text() and "民需状态" in b.text()
    b.check_page("dashboard")
    b.go("/console/demands")
    b.check_page("demands")
    create_demand_with_suggested_skill(b, cw)
    run_diff_publish(b, cw)
    find_member_by_pinyin(b, cw)
    decline_and_complete(b, cw)
    xlsx_matches_api(b, cw)
    b.go("/console/duty")
    b.check_page("duty")
    b.go("/docs")
    b.wait(lambda d: "CPPCC" in d.find_element("tag name", "body").text)  # Swagger UI rendered offline
    b.check_page("docs", lang="")  # Swagger UI's own page (English), its assets served by us

    cookie = b.driver.get_cookie("matcher_console")
    assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    b.go("/console")
    b.find(".topbar form[action='/logout'] button").click()
    b.wait(lambda d: d.current_url.endswith("/login"))
    b.driver.add_cookie({"name": "matcher_console", "value": cookie["value"], "path": "/"})
    b.go("/console")
    assert b.driver.current_url.split("?")[0].endswith("/login")  # the old cookie is refused
    b.check_page("signed-out")
    assert len(list(b.shots.glob("*.png"))) >= 16
