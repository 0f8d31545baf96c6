"""Problem texts follow Accept-Language: Chinese when it prefers zh, English otherwise; ``type`` and
``code`` never change. Both databases."""

from __future__ import annotations

import string
from datetime import datetime, timedelta

import pytest

from app.api.problems import preferred_locale
from app.errors import _TITLES, Problem, field_error, msg, problem_document
from app.i18n import catalogue
from tests.support import upload

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


def test_a_service_rule_speaks_chinese_with_its_values(client, world, db):
    r = client.post("/v1/members", json={"name": "某", "home_area": "NOPE"}, headers={**world.h("admin"), **ZH})
    assert r.status_code == 422 and r.json()["title"] == "校验未通过"
    assert r.json()["detail"] == "home_area：本区没有编码为 'NOPE' 的片区"
    assert r.json()["errors"] == [
        {"field": "home_area", "message": "本区没有编码为 'NOPE' 的片区", "code": "unknown_area"}
    ]
    en = client.post("/v1/members", json={"name": "某", "home_area": "NOPE"}, headers=world.h("admin"))
    assert en.json()["detail"] == "home_area: no area with code 'NOPE' in this district"


DAY = (datetime.now() + timedelta(days=10)).date().isoformat()


def _demand(world, **over) -> dict:
    return {
        "community_id": world.communities["建外社区"],
        "title": "法律咨询进社区",
        "channel": "liaison_station",
        "starts_at": f"{DAY}T09:00:00+08:00",
        "ends_at": f"{DAY}T11:00:00+08:00",
        **over,
    }


def _error_paths(client, world, lang: dict) -> dict[str, object]:
    """One request per kind of refusal, each answered with a problem (label -> response)."""
    admin = {**world.h("admin"), **lang}
    made = client.post("/v1/demands", json=_demand(world), headers=world.h("admin"))
    assert made.status_code == 201, made.text
    demand = f"/v1/demands/{made.json()['id']}"
    member = f"/v1/members/{world.members['张伟']}"
    far = (datetime.now() + timedelta(days=40)).date().isoformat()
    return {
        "401 no key": client.get("/v1/demands", headers=lang),
        "403 role": client.post("/v1/members", json={"name": "某"}, headers={**world.h("reader"), **lang}),
        "404 demand": client.get("/v1/demands/999999", headers=admin),
        "404 run": client.get("/v1/optimization-runs/999999", headers=admin),
        "404 path": client.get("/v1/no-such-thing", headers=admin),
        "405": client.options("/v1/areas", headers=admin),
        "409 duplicate": client.post("/v1/areas", json={"code": "JW", "name": "重复", "kind": "street"}, headers=admin),
        "412": client.patch(demand, json={"title": "改"}, headers={**admin, "If-Match": '"v999"'}),
        "412 weak": client.patch(demand, json={"title": "改"}, headers={**admin, "If-Match": 'W/"v1"'}),
        "422 too long": client.post("/v1/demands", json=_demand(world, ends_at=f"{far}T11:00:00+08:00"), headers=admin),
        "422 area": client.post("/v1/members", json={"name": "某", "home_area": "NOPE"}, headers=admin),
        "422 week": client.post("/v1/optimization-runs", json={"week": "2026-W99"}, headers=admin),
        "422 query": client.get("/v1/demands?stauts=open", headers=admin),
        "422 cursor": client.get("/v1/demands?cursor=%%%", headers=admin),
        "428": client.patch(member, json={"weekly_cap": 3}, headers=admin),
        "415": upload(client, "members", b"\xe7\xbc\x96\xff\xfe,\x81\x20\n", admin),
        "415 xls": upload(client, "members", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, admin, name="a.xls"),
    }


def _ascii_only(text: str) -> bool:
    return all(ord(c) < 128 for c in text)


def test_every_kind_of_refusal_is_chinese_under_zh_and_english_otherwise(client, world, db):
    zh, en = _error_paths(client, world, ZH), _error_paths(client, world, {"Accept-Language": "en"})
    for label, r in zh.items():
        z, e = r.json(), en[label].json()
        assert r.status_code == en[label].status_code == int(label[:3]) == z["status"], (label, r.text)
        assert (z["type"], z["code"]) == (e["type"], e["code"]), label
        assert z.get("detail") and not _ascii_only(z["detail"]), (label, z)
        assert not _ascii_only(z["title"]) and _ascii_only(e["title"]), label
        assert e["detail"] != z["detail"], label
        for error in z.get("errors") or []:
            assert not _ascii_only(error["message"]), (label, error)
        assert r.headers["content-language"] == "zh-CN" and en[label].headers["content-language"] == "en"


def test_the_413_of_a_payload_is_chinese_too_and_an_export_is_bounded(settings, world, db):
    from fastapi.testclient import TestClient

    from app.api.main import create_app

    with TestClient(create_app(settings.model_copy(update={"max_body_bytes": 100}))) as small:
        zh = small.post("/v1/members", content=b"x" * 400, headers={**world.h("admin"), **ZH})
        en = small.post("/v1/members", content=b"x" * 400, headers=world.h("admin"))
    assert zh.status_code == en.status_code == 413
    assert not _ascii_only(zh.json()["detail"]) and en.json()["detail"] == "Request bodies are limited to 100 bytes."


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_problem_sentence_exists_in_both_languages_with_the_same_values():
    zh = {k: v for k, v in catalogue("zh").items() if k.startswith("problem.msg.")}
    en = {k: v for k, v in catalogue("en").items() if k.startswith("problem.msg.")}
    assert set(zh) == set(en)
    for key, text in zh.items():
        assert _placeholders(text) == _placeholders(en[key]), key
        assert key.startswith("problem.msg.what.") or key.endswith(".literal") or not _ascii_only(text), key


def test_a_problem_renders_its_sentence_in_the_language_asked():
    problem = Problem(
        409,
        "duplicate_code",
        msg("duplicate_area_code", code="JW"),
        errors=[field_error("code", msg("already_exists"), "duplicate")],
    )
    assert problem.detail == "An area with code 'JW' already exists."  # the CLI and logs read English
    zh, en = problem_document(problem, "zh"), problem_document(problem, "en")
    assert (zh["detail"], zh["errors"][0]["message"]) == ("编码为 'JW' 的片区已存在。", "已存在")
    assert (en["detail"], en["errors"][0]["message"]) == (problem.detail, "already exists")
    assert zh["code"] == en["code"] == "duplicate_code" and zh["type"] == en["type"]


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
