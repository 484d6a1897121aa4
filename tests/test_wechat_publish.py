"""``kepu publish wechat`` end to end against a fake official-account API on 127.0.0.1.

The fake implements the documented requests and answers of cgi-bin/stable_token,
media/uploadimg, material/add_material and draft/add, and checks what a real server
would reject (limits, foreign image URLs, unknown cover, bad or expired tokens).
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import TODAY

from builder.wechat_api import (
    CachedToken,
    HttpResponse,
    PublishError,
    TokenStore,
    UrllibClient,
    WechatApiError,
)
from builder.wechat_publish import publish_wechat

APPID, SECRET = "wx0123456789abcdef", "s3cret-value"


@dataclass
class FakeWechat:
    """State of the fake platform; tests read it and set ``fail`` to inject error codes."""

    valid_tokens: set[str] = field(default_factory=set)
    issued: int = 0
    calls: list[tuple[str, dict]] = field(default_factory=list)  # (endpoint, query)
    images: dict[str, bytes] = field(default_factory=dict)  # url → bytes
    materials: dict[str, bytes] = field(default_factory=dict)  # media_id → bytes
    drafts: list[dict] = field(default_factory=list)
    raw_draft_bodies: list[bytes] = field(default_factory=list)
    fail: dict[str, tuple[int, str]] = field(default_factory=dict)  # endpoint → (errcode, errmsg)
    base_url: str = ""

    def endpoints(self) -> list[str]:
        return [endpoint for endpoint, _ in self.calls]

    def answer(self, endpoint: str, query: dict, content_type: str, body: bytes) -> dict:
        self.calls.append((endpoint, query))
        if endpoint in self.fail:
            code, message = self.fail[endpoint]
            return {"errcode": code, "errmsg": message}
        if endpoint == "cgi-bin/stable_token":
            return self.stable_token(json.loads(body))
        token = query.get("access_token", "")
        if not token:
            return {"errcode": 41001, "errmsg": "access_token missing"}
        if token not in self.valid_tokens:
            return {"errcode": 42001, "errmsg": "access_token expired"}
        if endpoint == "cgi-bin/media/uploadimg":
            filename, data = self.file(content_type, body)
            is_image = data.startswith(b"\xff\xd8") or data.startswith(b"\x89PNG")
            if not (is_image and filename.lower().endswith((".jpg", ".jpeg", ".png"))):
                return {"errcode": 40005, "errmsg": "invalid file type"}
            if len(data) >= 1_000_000:
                return {"errcode": 40009, "errmsg": "invalid image size"}
            url = f"http://mmbiz.qpic.cn/fake/{len(self.images) + 1}/0"
            self.images[url] = data
            return {"url": url, "errcode": 0, "errmsg": "ok"}
        if endpoint == "cgi-bin/material/add_material":
            if query.get("type") != "image":
                return {"errcode": 40004, "errmsg": "invalid media type"}
            _, data = self.file(content_type, body)
            media_id = f"MATERIAL-{len(self.materials) + 1}"
            self.materials[media_id] = data
            return {"media_id": media_id, "url": f"http://mmbiz.qpic.cn/material/{media_id}/0"}
        if endpoint == "cgi-bin/draft/add":
            return self.draft_add(body)
        return {"errcode": 40066, "errmsg": "invalid url"}

    def stable_token(self, request: dict) -> dict:
        if request.get("grant_type") != "client_credential" or request.get("appid") != APPID:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if request.get("secret") != SECRET:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        # Normal mode hands out the current token while it is valid; force_refresh issues a new one.
        if request.get("force_refresh") or not self.valid_tokens:
            self.issued += 1
            self.valid_tokens = {f"TOKEN-{self.issued}"}
        return {"access_token": next(iter(self.valid_tokens)), "expires_in": 7200}

    @staticmethod
    def file(content_type: str, body: bytes) -> tuple[str, bytes]:
        message = email.message_from_bytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body, policy=email.policy.HTTP
        )
        [part] = [
            p for p in message.iter_parts() if p.get_param("name", header="content-disposition") == "media"
        ]
        return part.get_filename(), part.get_payload(decode=True)

    def draft_add(self, body: bytes) -> dict:
        self.raw_draft_bodies.append(body)
        [article] = json.loads(body)["articles"]
        if len(article["title"]) > 32:
            return {"errcode": 45003, "errmsg": "title size out of limit"}
        if len(article.get("digest", "")) > 128 or len(article.get("author", "")) > 16:
            return {"errcode": 45004, "errmsg": "description size out of limit"}
        if len(article["content"]) >= 20_000:
            return {"errcode": 45002, "errmsg": "content size out of limit"}
        if article.get("article_type") == "newspic":
            images = article.get("image_info", {}).get("image_list", [])
            if not 1 <= len(images) <= 20:
                return {"errcode": 45166, "errmsg": "invalid image count"}
            if any(image.get("image_media_id") not in self.materials for image in images):
                return {"errcode": 40007, "errmsg": "invalid media_id"}
            if "<" in article["content"] or "thumb_media_id" in article:
                return {"errcode": 47001, "errmsg": "data format error"}
        elif article.get("thumb_media_id") not in self.materials:
            return {"errcode": 40007, "errmsg": "invalid media_id"}
        self.drafts.append(article)
        return {"media_id": f"DRAFT-{len(self.drafts)}"}


@pytest.fixture
def fake() -> Iterator[FakeWechat]:
    state = FakeWechat()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            query = {key: values[0] for key, values in parse_qs(parts.query).items()}
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            answer = state.answer(parts.path.lstrip("/"), query, self.headers.get("Content-Type", ""), body)
            data = json.dumps(answer, ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def publish(project: Path, fake: FakeWechat, tmp_path: Path, **options: object) -> tuple[list, list[str]]:
    lines: list[str] = []
    env = {"KEPU_WECHAT_APPID": APPID, "KEPU_WECHAT_SECRET": SECRET, "KEPU_WECHAT_API_BASE": fake.base_url}
    env.update(options.pop("env", {}))  # type: ignore[arg-type]
    drafts = publish_wechat(
        project,
        env=env,
        client=UrllibClient(timeout=10, use_environment_proxies=False),
        tokens=TokenStore(tmp_path / "tokens"),
        log=lines.append,
        today=TODAY,
        **options,  # type: ignore[arg-type]
    )
    return drafts, lines


def test_publish_lesson_uploads_images_and_cover_and_creates_one_draft(
    project: Path, fake: FakeWechat, tmp_path: Path
):
    [draft], lines = publish(project, fake, tmp_path, lesson="hypertension-basics")
    assert fake.endpoints() == [
        "cgi-bin/stable_token",
        "cgi-bin/media/uploadimg",  # the cover, which opens the article
        "cgi-bin/media/uploadimg",  # the lesson's own picture
        "cgi-bin/material/add_material",
        "cgi-bin/draft/add",
    ]
    assert draft.media_id == "DRAFT-1" and draft.title == "认识高血压"
    [article] = fake.drafts
    assert article["title"] == "认识高血压"
    assert article["content_source_url"] == "https://health.example.org/lessons/hypertension-basics/"
    assert article["thumb_media_id"] == "MATERIAL-1" and "kepu" not in article
    assert article["pic_crop_235_1"] == "0_0_1_1"
    # The body image now points at the uploaded copy, and nothing else is referenced.
    assert re.findall(r'<img src="([^"]+)"', article["content"]) == [
        "http://mmbiz.qpic.cn/fake/1/0",
        "http://mmbiz.qpic.cn/fake/2/0",
    ]
    assert fake.images["http://mmbiz.qpic.cn/fake/2/0"] == (project / "media/bp.png").read_bytes()
    assert fake.materials["MATERIAL-1"].startswith(b"\xff\xd8")  # the JPEG cover
    assert fake.images["http://mmbiz.qpic.cn/fake/1/0"] == fake.materials["MATERIAL-1"]
    assert "认识高血压".encode() in fake.raw_draft_bodies[0]  # UTF-8, not \\u escapes
    assert any("草稿箱" in line and "DRAFT-1" in line for line in lines)
    assert not any(SECRET in line or "TOKEN-1" in line for line in lines)
    # The token is cached for the next run, readable by the owner only.
    cached = tmp_path / "tokens" / f"wechat-token-{APPID}.json"
    assert json.loads(cached.read_text())["access_token"] == "TOKEN-1"
    assert cached.stat().st_mode & 0o077 == 0


def test_expired_cached_token_is_refreshed_and_the_call_retried(
    project: Path, fake: FakeWechat, tmp_path: Path
):
    # A token the client believes valid for an hour, but the platform has expired.
    TokenStore(tmp_path / "tokens").save(APPID, CachedToken("STALE", time.time() + 3600))
    [draft], _ = publish(project, fake, tmp_path, lesson="flu-vaccine")
    assert draft.media_id == "DRAFT-1"
    tokens_used = [
        query.get("access_token") for endpoint, query in fake.calls if endpoint != "cgi-bin/stable_token"
    ]
    assert tokens_used == [
        "STALE",
        "TOKEN-1",
        "TOKEN-1",
        "TOKEN-1",
    ]  # the first upload failed once, then retried
    assert fake.endpoints().count("cgi-bin/stable_token") == 1


def test_token_close_to_expiry_is_renewed_before_use(project: Path, fake: FakeWechat, tmp_path: Path):
    TokenStore(tmp_path / "tokens").save(APPID, CachedToken("OLD", time.time() + 60))
    publish(project, fake, tmp_path, lesson="flu-vaccine")
    assert fake.endpoints()[0] == "cgi-bin/stable_token"
    assert "OLD" not in [query.get("access_token") for _, query in fake.calls]


def test_same_token_after_rejection_forces_a_refresh(project: Path, fake: FakeWechat, tmp_path: Path):
    # The platform keeps returning a token it rejects (another system forced a refresh meanwhile).
    fake.valid_tokens = {"TOKEN-0"}
    original = fake.answer

    def reject_first_use(endpoint: str, query: dict, content_type: str, body: bytes) -> dict:
        if query.get("access_token") == "TOKEN-0":
            fake.calls.append((endpoint, query))
            return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
        return original(endpoint, query, content_type, body)

    fake.answer = reject_first_use  # type: ignore[method-assign]
    [draft], _ = publish(project, fake, tmp_path, lesson="flu-vaccine")
    assert draft.media_id == "DRAFT-1"
    stable_calls = [query for endpoint, query in fake.calls if endpoint == "cgi-bin/stable_token"]
    assert len(stable_calls) == 3  # first fetch, normal renew (same token), forced refresh


def test_api_error_code_is_reported_clearly(project: Path, fake: FakeWechat, tmp_path: Path):
    fake.fail["cgi-bin/stable_token"] = (
        40164,
        "invalid ip 203.0.113.7 ipv6 ::ffff:203.0.113.7, not in whitelist",
    )
    with pytest.raises(WechatApiError) as raised:
        publish(project, fake, tmp_path, lesson="hypertension-basics")
    message = str(raised.value)
    assert raised.value.code == 40164
    assert "IP 白名单" in message and "203.0.113.7" in message and "40164" in message
    assert fake.drafts == [] and fake.images == {}


def test_content_too_long_for_the_api_is_reported(project: Path, fake: FakeWechat, tmp_path: Path):
    fake.fail["cgi-bin/draft/add"] = (45002, "content size out of limit")
    with pytest.raises(WechatApiError, match="拆成两篇"):
        publish(project, fake, tmp_path, lesson="flu-vaccine")


def test_wrong_secret_is_reported(project: Path, fake: FakeWechat, tmp_path: Path):
    with pytest.raises(WechatApiError, match="KEPU_WECHAT_SECRET"):
        publish(project, fake, tmp_path, lesson="flu-vaccine", env={"KEPU_WECHAT_SECRET": "wrong"})


def test_campaign_publishes_only_its_wechat_activities(project: Path, fake: FakeWechat, tmp_path: Path):
    drafts, _ = publish(project, fake, tmp_path, campaign="dust-month")
    # dust-month has a lecture and one 公众号 activity: only the latter becomes a draft.
    assert [draft.slug for draft in drafts] == ["dust-pneumoconiosis"]
    assert [article["title"] for article in fake.drafts] == ["粉尘与尘肺病"]
    assert not [endpoint for endpoint in fake.endpoints() if "publish" in endpoint or "mass" in endpoint]


def test_dry_run_makes_no_request_and_hides_secrets(project: Path, tmp_path: Path):
    class NoNetwork:
        def post(self, url: str, body: bytes, content_type: str) -> HttpResponse:
            raise AssertionError(f"dry run sent {url}")

    lines: list[str] = []
    drafts = publish_wechat(
        project,
        lesson="hypertension-basics",
        dry_run=True,
        env={"KEPU_WECHAT_APPID": APPID, "KEPU_WECHAT_SECRET": SECRET},
        client=NoNetwork(),
        log=lines.append,
        today=TODAY,
    )
    assert [draft.media_id for draft in drafts] == [None]
    requests = [line.strip() for line in lines if line.strip().startswith("POST ")]
    assert [line.split()[1].split("?")[0] for line in requests] == [
        "https://api.weixin.qq.com/cgi-bin/stable_token",
        "https://api.weixin.qq.com/cgi-bin/media/uploadimg",
        "https://api.weixin.qq.com/cgi-bin/media/uploadimg",
        "https://api.weixin.qq.com/cgi-bin/material/add_material",
        "https://api.weixin.qq.com/cgi-bin/draft/add",
    ]
    assert "media=cover.jpg" in requests[1] and "media=images/bp.png" in requests[2]
    assert '"title": "认识高血压"' in requests[4]
    assert not any(SECRET in line for line in lines)


def test_selection_and_credentials_errors(project: Path, tmp_path: Path):
    with pytest.raises(PublishError, match="没有课程 'nope'"):
        publish_wechat(project, lesson="nope", dry_run=True, env={}, today=TODAY)
    with pytest.raises(PublishError, match="二选一"):
        publish_wechat(project, dry_run=True, env={}, today=TODAY)
    with pytest.raises(PublishError, match="KEPU_WECHAT_APPID 和 KEPU_WECHAT_SECRET"):
        publish_wechat(project, lesson="flu-vaccine", env={}, today=TODAY)


# -- the media cache and image posts ------------------------------------------------


def test_republishing_sends_no_picture_twice(project: Path, fake: FakeWechat, tmp_path: Path):
    publish(project, fake, tmp_path, lesson="hypertension-basics")
    fake.calls.clear()
    [draft], _ = publish(project, fake, tmp_path, lesson="hypertension-basics")
    assert fake.endpoints() == ["cgi-bin/draft/add"]  # the token is cached too
    assert draft.reused == 3 and draft.media_id == "DRAFT-2"
    assert fake.drafts[1]["content"] == fake.drafts[0]["content"]
    assert fake.drafts[1]["thumb_media_id"] == "MATERIAL-1"
    cache = json.loads((tmp_path / "tokens" / f"wechat-media-{APPID}.json").read_text(encoding="utf-8"))
    assert sorted(key.split(":")[0] for key in cache) == ["material", "uploadimg", "uploadimg"]
    assert (tmp_path / "tokens" / f"wechat-media-{APPID}.json").stat().st_mode & 0o077 == 0


def test_a_deleted_cover_is_uploaded_again(project: Path, fake: FakeWechat, tmp_path: Path):
    publish(project, fake, tmp_path, lesson="flu-vaccine")
    fake.materials.clear()  # an editor emptied the material library
    fake.calls.clear()
    [draft], _ = publish(project, fake, tmp_path, lesson="flu-vaccine")
    assert fake.endpoints() == ["cgi-bin/draft/add", "cgi-bin/material/add_material", "cgi-bin/draft/add"]
    assert draft.media_id == "DRAFT-2" and fake.drafts[-1]["thumb_media_id"] in fake.materials


def test_newspic_uploads_the_cards_and_creates_an_image_post(project: Path, fake: FakeWechat, tmp_path: Path):
    [draft], _ = publish(project, fake, tmp_path, lesson="hypertension-basics", newspic=True)
    endpoints = fake.endpoints()
    assert endpoints[0] == "cgi-bin/stable_token" and endpoints[-1] == "cgi-bin/draft/add"
    uploads = [query for endpoint, query in fake.calls if endpoint == "cgi-bin/material/add_material"]
    [article] = fake.drafts
    assert article["article_type"] == "newspic" and article["title"] == "认识高血压"
    ids = [image["image_media_id"] for image in article["image_info"]["image_list"]]
    assert len(ids) == len(uploads) == 3 + 2  # title card, three key points, closing card
    assert all(fake.materials[media_id].startswith(b"\xff\xd8") for media_id in ids)
    assert "kepu" not in article and "thumb_media_id" not in article and "<" not in article["content"]
    assert "https://health.example.org/lessons/hypertension-basics/" in article["content"]
    assert draft.media_id == "DRAFT-1"
    fake.calls.clear()
    publish(project, fake, tmp_path, lesson="hypertension-basics", newspic=True)
    assert fake.endpoints() == ["cgi-bin/draft/add"]  # every card was cached


def test_newspic_dry_run_lists_every_card(project: Path, tmp_path: Path):
    lines: list[str] = []
    publish_wechat(
        project, lesson="flu-vaccine", dry_run=True, newspic=True, env={}, log=lines.append, today=TODAY
    )
    materials = [line for line in lines if "material/add_material" in line]
    assert [line.split("media=")[1].split("（")[0] for line in materials] == [
        "01.jpg", "02.jpg", "03.jpg", "04.jpg", "05.jpg",
    ]  # fmt: skip
    assert '"article_type": "newspic"' in lines[-1]


def test_upload_ready_converts_what_wechat_refuses(tmp_path: Path):
    from PIL import Image

    from builder.wechat_publish import upload_ready

    webp = tmp_path / "photo.webp"
    Image.new("RGB", (1600, 900), (200, 120, 40)).save(webp, "WEBP")
    data, name = upload_ready(webp, 1_000_000)
    assert data.startswith(b"\xff\xd8") and name == "photo.jpg" and len(data) < 1_000_000
    png = tmp_path / "icon.png"
    Image.new("RGBA", (48, 48), (0, 0, 0, 0)).save(png)
    assert upload_ready(png, 1_000_000) == (png.read_bytes(), "icon.png")


def test_cli_newspic_flag_makes_an_image_post(
    project: Path, fake: FakeWechat, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    from builder.cli import main

    for name, value in {
        "KEPU_WECHAT_APPID": APPID,
        "KEPU_WECHAT_SECRET": SECRET,
        "KEPU_WECHAT_API_BASE": fake.base_url,
        "KEPU_WECHAT_TOKEN_CACHE": str(tmp_path / "tokens"),
        "NO_PROXY": "127.0.0.1",
        "no_proxy": "127.0.0.1",
    }.items():
        monkeypatch.setenv(name, value)
    command = ["publish", "wechat", "--project", str(project), "--lesson", "flu-vaccine"]
    assert main([*command, "--newspic"]) == 0  # without the flag passed through, an article would go up
    assert [article.get("article_type", "news") for article in fake.drafts] == ["newspic"]
    assert "图片消息《" in capsys.readouterr().out
