"""Problem texts follow Accept-Language: Chinese when it prefers zh, English otherwise; ``type`` and
``code`` never change. Both databases."""

from __future__ import annotations

import pytest

from app.api.problems import preferred_locale
from app.errors import _TITLES
from app.i18n import catalogue

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}


def test_not_found_in_chinese_and_in_english(client, world, db):
    zh = client.get("/v1/demands/999999", headers={**world.h("admin"), **ZH})
    en = client.get("/v1/demands/999999", headers={**world.h("admin"), "Accept-Language": "en-US"})
    plain = client.get("/v1/demands/999999", headers=world.h("admin"))
    assert zh.status_code == en.status_code == plain.status_code == 404
    assert (zh.json()["title"], zh.json()["detail"]) == ("未找到", "需求 999999 不存在")
    assert zh.headers["content-language"] == "zh-CN" and "Accept-Language" in zh.headers["vary"]
    assert (en.json()["title"], en.json()["detail"]) == ("Not found", "demand 999999 not found")
    assert plain.json() | {"request_id": None} == en.json() | {"request_id": None}
    assert {r.json()["code"] for r in (zh, en)} == {"not_found"}
    assert {r.json()["type"] for r in (zh, en)} == {"urn:matcher:problem:not_found"}


def test_field_messages_and_preconditions_in_chinese(client, world, db):
    r = client.post("/v1/members", json={"home_area": "JW"}, headers={**world.h("admin"), **ZH})
    assert r.status_code == 422
    body = r.json()
    assert body["title"] == "校验未通过" and body["detail"] == "以下字段未通过校验：name"
    assert body["errors"] == [{"field": "name", "message": "必填", "code": "missing"}]
    r = client.patch(f"/v1/members/{world.members['张伟']}", json={"weekly_cap": 3}, headers={**world.h("admin"), **ZH})
    assert r.status_code == 428 and r.json()["code"] == "precondition_required"
    assert r.json()["title"] == "缺少前提条件" and "If-Match" in r.json()["detail"]
    r = client.get("/v1/demands?stauts=open", headers={**world.h("admin"), **ZH})
    assert r.json()["errors"][0] == {"field": "query.stauts", "message": "未知的查询参数", "code": "unknown_parameter"}
    r = client.options("/v1/areas", headers={**world.h("admin"), **ZH})
    assert r.json()["detail"] == "此路径不支持 OPTIONS；可用：GET, POST。"


def test_a_message_without_a_chinese_text_stays_english(client, world, db):
    r = client.post("/v1/members", json={"name": "某", "home_area": "NOPE"}, headers={**world.h("admin"), **ZH})
    assert r.status_code == 422 and r.json()["title"] == "校验未通过"
    assert "NOPE" in r.json()["errors"][0]["message"]  # a specific message is kept rather than lost


def test_the_413_of_the_body_limit_speaks_chinese_too(settings, world, db):
    from fastapi.testclient import TestClient

    from app.api.main import create_app

    with TestClient(create_app(settings.model_copy(update={"max_body_bytes": 100}))) as small:
        r = small.post("/v1/demands", content=b" " * 500, headers={**world.h("admin"), **ZH})
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"
    assert (r.json()["title"], r.json()["detail"]) == ("请求内容过大", "请求内容最多 100 字节。")


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        (None, "en"),
        ("", "en"),
        ("zh", "zh"),
        ("zh-TW", "zh"),
        ("en-US,zh;q=0.5", "en"),
        ("zh;q=0.9,en;q=0.8", "zh"),
        ("fr-FR,zh-CN;q=0.7", "zh"),
        ("de", "en"),
        ("zh;q=0", "en"),
    ],
)
def test_accept_language_negotiation(header, locale):
    assert preferred_locale(header) == locale


def test_every_status_has_a_title_in_both_catalogues():
    for status in _TITLES:
        assert f"problem.title.{status}" in catalogue("zh"), status
        assert catalogue("en")[f"problem.title.{status}"] == _TITLES[status]
