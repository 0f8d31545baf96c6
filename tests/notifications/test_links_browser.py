"""A member's task page in a real headless Chromium (Selenium) at 360 px: everything fits the
width, and 接受 works as a plain form post. The page has no script and its CSP (default-src 'none')
would block one, so this is the page as a phone without JavaScript sees it. SQLite is enough: the page and
the form are the subject here (the link rules run on both databases in test_links.py)."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from app.models import Assignment
from tests.conftest import _fresh_database
from tests.live import chromium_options, require_chromium, start_chromium
from tests.notifications.conftest import stored_plan, task_link


@pytest.fixture
def db(request):
    return _fresh_database("sqlite", request)


@pytest.fixture
def browser(tmp_path):
    require_chromium("the member page")
    options = chromium_options(tmp_path / "profile")
    # A 360 px wide phone (a plain window cannot be made that narrow).
    options.add_experimental_option(
        "mobileEmulation", {"deviceMetrics": {"width": 360, "height": 740, "pixelRatio": 2}}
    )
    driver = start_chromium(options)
    try:
        yield driver
    finally:
        driver.quit()


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
