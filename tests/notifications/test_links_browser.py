"""A member's task page in a real headless Chromium (Selenium) at 360 px: everything fits the
width, and 接受 works as a plain form post. The page has no script and its CSP (default-src 'none')
would block one, so this is the page as a phone without JavaScript sees it. SQLite is enough: the page and
the form are the subject here (the link rules run on both databases in test_links.py)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from app.models import Assignment
from tests.conftest import IN_CI, _fresh_database
from tests.notifications.conftest import stored_plan, task_link

CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
def db(request):
    return _fresh_database("sqlite", request)


@pytest.fixture
def browser():
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not (os.path.exists(path) and os.path.exists(CHROMEDRIVER)):
        message = "chromium/chromedriver not installed: the member page cannot be tested in a browser"
        if IN_CI:
            pytest.fail(message + " (CI=true requires it)")
        sys.stderr.write(f"\n!!! {message}; SKIPPING !!!\n")
        pytest.skip(message)
    profile = tempfile.mkdtemp(prefix="chromium-member-")
    options = webdriver.ChromeOptions()
    options.binary_location = path
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ):
        options.add_argument(flag)
    # A 360 px wide phone (a plain window cannot be made that narrow).
    options.add_experimental_option(
        "mobileEmulation", {"deviceMetrics": {"width": 360, "height": 740, "pixelRatio": 2}}
    )
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_task_page_at_360px_without_javascript(db, world, server, http, browser):
    plan = stored_plan(db, world, http)
    link = task_link(db, plan.assignments["张伟"])
    browser.get(f"{server}/t/{link.token}")
    assert "物业纠纷法律咨询" in browser.page_source and "为什么请您" in browser.page_source
    assert not browser.find_elements(By.TAG_NAME, "script")
    width = browser.execute_script("return document.documentElement.clientWidth")
    scroll = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 360 and scroll <= width  # nothing sticks out sideways
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()  # 接受
    WebDriverWait(browser, 20).until(lambda d: "已接受，感谢您" in d.page_source)
    with db.session() as s:
        assert s.get(Assignment, plan.assignments["张伟"]).status == "accepted"
