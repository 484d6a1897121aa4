"""``kepu publish wechat``: put posts into a public account's draft box (草稿箱).

It renders the posts afresh (so the draft is exactly what ``kepu build`` previews),
uploads the body images (``media/uploadimg``) and the cover (``material/add_material``)
and creates one draft per lesson (``draft/add``) through the official-account API.
It never publishes (群发/发表): an editor checks the draft and presses the button.
With ``newspic`` it makes image posts (图片消息, article_type newspic) instead: the
lesson's cards go up as permanent material and the draft lists their media ids.

Pictures are sent as WeChat takes them (JPG/PNG, under 1 MB for uploadimg and 10 MB
for permanent material; anything else is re-encoded) and only once: their URLs and
media ids are cached by content hash beside the token, so a re-publish uploads
nothing that did not change.

Credentials come from the environment (``KEPU_WECHAT_APPID``, ``KEPU_WECHAT_SECRET``);
the API base URL is configurable (``KEPU_WECHAT_API_BASE``) so tests talk to a fake
server on 127.0.0.1. Access tokens come from ``cgi-bin/stable_token``, which unlike
``cgi-bin/token`` does not invalidate the token another system of the same account is
using; they are cached on disk until five minutes before they expire and fetched again
when the API says a token is invalid or expired.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import os
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode, urlsplit

from builder.calendar import is_wechat_channel
from builder.diagnostics import ContentError, Diagnostics
from builder.model import Project
from builder.outputs import LESSON_POSTS, lesson_post_path, lesson_posts_folder
from builder.pipeline import build
from builder.post_cards import NEWSPIC_IMAGES_MAX
from builder.post_pictures import COVER_SIZE
from builder.project import load_project
from builder.renderers.posts import (
    AUTHOR_MAX,
    BODY_IMAGE_BYTES_MAX,
    CONTENT_BYTES_MAX,
    CONTENT_MAX,
    DIGEST_MAX,
    TITLE_MAX,
    upload_ready_image,
)
from builder.writer import write_atomically

API_BASE = "https://api.weixin.qq.com"
ENV_APPID = "KEPU_WECHAT_APPID"
ENV_SECRET = "KEPU_WECHAT_SECRET"
ENV_API_BASE = "KEPU_WECHAT_API_BASE"
ENV_TOKEN_CACHE = "KEPU_WECHAT_TOKEN_CACHE"
TOKEN_RENEW_BEFORE = 300  # seconds: renew a cached token this long before it expires
# The API's answers meaning "this access_token is not (or no longer) valid".
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
# The cover is exactly 2.35:1; for the 1:1 crop WeChat shows in lists, take its centre.
SQUARE_CROP = (COVER_SIZE[0] - COVER_SIZE[1]) / 2 / COVER_SIZE[0]

ERROR_MESSAGES = {
    -1: "微信系统繁忙，请稍后再试",
    40001: "AppSecret 不对，或 access_token 无效（已重新获取过一次）：请核对 KEPU_WECHAT_SECRET",
    40005: "文件格式不对：正文图片只能是 JPG 或 PNG",
    40007: "素材 media_id 无效：封面素材可能已被删除",
    40009: "图片太大：正文图片要小于 1 MB",
    40013: "AppID 不对：请核对 KEPU_WECHAT_APPID（公众平台 → 设置与开发 → 基本配置）",
    40014: "access_token 不合法（已重新获取过一次）：请确认 AppID 和 AppSecret 属于同一个公众号",
    40125: "AppSecret 不对：请核对 KEPU_WECHAT_SECRET（公众平台 → 设置与开发 → 基本配置）",
    40164: "本机的公网 IP 不在公众号的 IP 白名单里：登录公众平台 → 设置与开发 → 基本配置 → IP 白名单，"
    "加入下面错误信息里的 IP",
    42001: "access_token 已过期（已重新获取过一次仍失败）",
    44002: "提交的数据是空的",
    45002: "内容超过长度限制：正文要少于 2 万字符、小于 1 MB，请把课程拆成两篇",
    45009: "今天的接口调用次数已用完，请明天再试",
    45011: "调用太频繁，请一分钟后再试",
    47001: "数据格式不对（JSON 解析失败）",
    48001: "公众号没有这个接口的权限：草稿箱和素材接口需要已认证的公众号",
    50002: "公众号被限制使用接口，请到公众平台查看原因",
}


class PublishError(Exception):
    """A problem the user can fix: missing credentials, an unknown lesson, a post too long."""


class WechatApiError(PublishError):
    """The official-account API answered with an error code."""

    def __init__(self, endpoint: str, code: int, errmsg: str):
        self.endpoint, self.code, self.errmsg = endpoint, code, errmsg
        explanation = ERROR_MESSAGES.get(code, "微信接口返回了错误")
        super().__init__(f"{explanation}（{endpoint} 返回 {code}：{errmsg}）")


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes


class HttpClient(Protocol):
    """The one HTTP operation the API needs; tests substitute their own."""

    def post(self, url: str, body: bytes, content_type: str) -> HttpResponse: ...


class UrllibClient:
    """The standard library's HTTP client; no third-party dependency for four POSTs."""

    def __init__(self, timeout: float = 30.0, use_environment_proxies: bool = True):
        self.timeout = timeout
        handlers = [] if use_environment_proxies else [urllib.request.ProxyHandler({})]
        self.opener = urllib.request.build_opener(*handlers)

    def post(self, url: str, body: bytes, content_type: str) -> HttpResponse:
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": content_type}
        )
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return HttpResponse(response.status, response.read())
        except urllib.error.HTTPError as error:
            return HttpResponse(error.code, error.read())
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise PublishError(f"连不上 {urlsplit(url).netloc}：{reason}") from error


def multipart_body(field_name: str, filename: str, data: bytes, content_type: str) -> tuple[bytes, str]:
    """A multipart/form-data body with one file, as ``curl -F media=@file`` sends it."""
    boundary = "kepu-" + hashlib.sha256(data).hexdigest()[:32]
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{field_name}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@dataclass
class CachedToken:
    token: str
    expires_at: float  # seconds since the epoch


class TokenStore:
    """Access tokens on disk, one file per AppID, readable by the owner only."""

    def __init__(self, folder: Path | None):
        self.folder = folder

    def _path(self, appid: str) -> Path | None:
        return self.folder / f"wechat-token-{appid}.json" if self.folder else None

    def load(self, appid: str) -> CachedToken | None:
        path = self._path(appid)
        try:
            data = json.loads(path.read_text(encoding="utf-8")) if path else None
            return CachedToken(str(data["access_token"]), float(data["expires_at"])) if data else None
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, appid: str, token: CachedToken) -> None:
        path = self._path(appid)
        if path is None:
            return
        # Owner-only from the start: the token grants access to the account for two hours.
        record = {"access_token": token.token, "expires_at": token.expires_at}
        write_atomically(path, json.dumps(record).encode("utf-8"), private=True)

    def forget(self, appid: str) -> None:
        path = self._path(appid)
        if path:
            path.unlink(missing_ok=True)


def default_token_folder(env: Mapping[str, str]) -> Path:
    if env.get(ENV_TOKEN_CACHE):
        return Path(env[ENV_TOKEN_CACHE])
    cache_home = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache_home) / "kepu"


class MediaCache:
    """What was uploaded, by the SHA-256 of its bytes: a re-publish sends each picture once.

    One file per AppID beside the token (``wechat-media-<appid>.json``): uploadimg
    URLs and permanent media ids. Both stay valid on the platform until an editor
    deletes the material; a draft/add that names a deleted one (40007) makes
    ``kepu publish`` forget it and upload again.
    """

    def __init__(self, folder: Path | None, appid: str):
        self.path = folder / f"wechat-media-{appid}.json" if folder else None
        self.entries: dict[str, str] = {}
        if self.path is not None:
            try:
                loaded = json.loads(self.path.read_text(encoding="utf-8"))
                self.entries = {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
            except (OSError, ValueError):
                self.entries = {}

    @staticmethod
    def key(kind: str, data: bytes) -> str:
        return f"{kind}:{hashlib.sha256(data).hexdigest()}"

    def get(self, kind: str, data: bytes) -> str | None:
        return self.entries.get(self.key(kind, data))

    def put(self, kind: str, data: bytes, value: str) -> None:
        self.entries[self.key(kind, data)] = value
        self._save()

    def forget(self, kind: str, data: bytes) -> None:
        if self.entries.pop(self.key(kind, data), None) is not None:
            self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        text = json.dumps(self.entries, indent=1, sort_keys=True)
        write_atomically(self.path, text.encode("utf-8"), private=True)


class WechatApi:
    """The four endpoints of the official-account API that drafts need."""

    def __init__(
        self,
        appid: str,
        secret: str,
        base_url: str = API_BASE,
        client: HttpClient | None = None,
        tokens: TokenStore | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.appid, self.secret = appid, secret
        self.base_url = base_url.rstrip("/")
        self.client = client or UrllibClient()
        self.tokens = tokens or TokenStore(None)
        self.clock = clock
        self.cached: CachedToken | None = None

    # -- access tokens --

    def access_token(self) -> str:
        now = self.clock()
        token = self.cached or self.tokens.load(self.appid)
        if token is None or token.expires_at - TOKEN_RENEW_BEFORE <= now:
            token = self._fetch_token(force_refresh=False)
        self.cached = token
        return token.token

    def _fetch_token(self, force_refresh: bool) -> CachedToken:
        payload = {
            "grant_type": "client_credential",
            "appid": self.appid,
            "secret": self.secret,
            "force_refresh": force_refresh,
        }
        answer = self._post("cgi-bin/stable_token", {}, json.dumps(payload).encode(), "application/json")
        try:
            token = CachedToken(str(answer["access_token"]), self.clock() + float(answer["expires_in"]))
        except (KeyError, TypeError, ValueError) as error:
            raise PublishError(f"cgi-bin/stable_token 的回答里没有 access_token：{answer}") from error
        self.tokens.save(self.appid, token)
        return token

    def _renew_token(self, rejected: str) -> None:
        self.tokens.forget(self.appid)
        self.cached = self._fetch_token(force_refresh=False)
        if self.cached.token == rejected:
            # The platform still hands out the token it just refused: make it issue a new one.
            self.cached = self._fetch_token(force_refresh=True)

    # -- calls --

    def _post(self, endpoint: str, query: dict[str, str], body: bytes, content_type: str) -> dict:
        url = f"{self.base_url}/{endpoint}" + (f"?{urlencode(query)}" if query else "")
        response = self.client.post(url, body, content_type)
        try:
            answer = json.loads(response.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            answer = None
        if not isinstance(answer, dict):
            raise PublishError(
                f"{endpoint} 返回了 HTTP {response.status}，不是 JSON：{response.body[:200]!r}"
            )
        code = int(answer.get("errcode") or 0)
        if code:
            raise WechatApiError(endpoint, code, str(answer.get("errmsg", "")))
        if response.status != 200:
            raise PublishError(f"{endpoint} 返回了 HTTP {response.status}")
        return answer

    def call(
        self, endpoint: str, body: bytes, content_type: str, query: dict[str, str] | None = None
    ) -> dict:
        """POST with the access token; an invalid or expired token is renewed once."""
        token = self.access_token()
        try:
            return self._post(endpoint, {"access_token": token, **(query or {})}, body, content_type)
        except WechatApiError as error:
            if error.code not in TOKEN_ERRORS:
                raise
            self._renew_token(token)
        return self._post(
            endpoint, {"access_token": self.access_token(), **(query or {})}, body, content_type
        )

    def upload_article_image(self, filename: str, data: bytes) -> str:
        """``media/uploadimg``: an image for the article body; returns its mmbiz URL."""
        body, content_type = multipart_body("media", filename, data, _image_type(filename))
        answer = self.call("cgi-bin/media/uploadimg", body, content_type)
        if not answer.get("url"):
            raise PublishError(f"media/uploadimg 没有返回图片地址：{answer}")
        return str(answer["url"])

    def add_image_material(self, filename: str, data: bytes) -> str:
        """``material/add_material?type=image``: a permanent image (the cover); returns its media_id."""
        body, content_type = multipart_body("media", filename, data, _image_type(filename))
        answer = self.call("cgi-bin/material/add_material", body, content_type, {"type": "image"})
        if not answer.get("media_id"):
            raise PublishError(f"material/add_material 没有返回 media_id：{answer}")
        return str(answer["media_id"])

    def add_draft(self, article: dict[str, object]) -> str:
        """``draft/add``: one article in the draft box; returns the draft's media_id."""
        # Chinese as is, not \\u escapes: the documentation asks for it.
        body = json.dumps({"articles": [article]}, ensure_ascii=False).encode("utf-8")
        answer = self.call("cgi-bin/draft/add", body, "application/json; charset=utf-8")
        if not answer.get("media_id"):
            raise PublishError(f"draft/add 没有返回 media_id：{answer}")
        return str(answer["media_id"])


def _image_type(filename: str) -> str:
    return "image/png" if filename.lower().endswith(".png") else "image/jpeg"


# -- what to publish --------------------------------------------------------------------


@dataclass
class DraftPlan:
    """One lesson's draft, read from the freshly rendered posts: an article, or an image post."""

    slug: str
    fields: dict[str, object]  # post.json, or post-newspic.json
    folder: Path  # the rendered posts/lessons/<slug>/ folder
    out: Path | None = None  # the output folder: the image post names its cards from there

    @property
    def newspic(self) -> bool:
        return self.fields.get("article_type") == "newspic"

    @property
    def cover(self) -> Path:
        return self.folder / LESSON_POSTS["post-cover"]

    @property
    def title(self) -> str:
        return str(self.fields["title"])

    def images(self) -> list[tuple[str, Path]]:
        """(src as written in the content, file) of every body image."""
        kepu = self.fields.get("kepu", {})
        assert isinstance(kepu, dict)
        return [(str(image["src"]), self.folder / str(image["src"])) for image in kepu.get("images", [])]

    def cards(self) -> list[Path]:
        """An image post's pictures, in order (the first is its cover)."""
        kepu = self.fields.get("kepu", {})
        assert isinstance(kepu, dict) and self.out is not None
        return [self.out / str(path) for path in kepu.get("images", [])]

    def problems(self) -> list[str]:
        limits = {"title": TITLE_MAX, "author": AUTHOR_MAX, "digest": DIGEST_MAX}
        found = [
            f"{name} 有 {len(str(self.fields.get(name, '')))} 个字，草稿接口最多 {limit} 个"
            for name, limit in limits.items()
            if len(str(self.fields.get(name, ""))) > limit
        ]
        content = str(self.fields.get("content", ""))
        if len(content) >= CONTENT_MAX or len(content.encode("utf-8")) >= CONTENT_BYTES_MAX:
            found.append(f"正文有 {len(content)} 个字符，草稿接口要求少于 {CONTENT_MAX}：请把课程拆成两篇")
        if self.newspic and not 1 <= len(self.cards()) <= NEWSPIC_IMAGES_MAX:
            found.append(f"图片消息有 {len(self.cards())} 张图，草稿接口要求 1～{NEWSPIC_IMAGES_MAX} 张")
        return found


@dataclass
class PublishedDraft:
    slug: str
    title: str
    media_id: str | None  # None in a dry run
    uploaded_images: dict[str, str] = field(default_factory=dict)  # src → mmbiz URL
    reused: int = 0  # pictures not sent again: the media cache knew them


def select_lessons(project: Project, lesson: str | None, campaign: str | None) -> list[str]:
    """The slugs to publish: one lesson, or the lessons of a campaign's 公众号 activities."""
    if (lesson is None) == (campaign is None):
        raise PublishError("请用 --lesson SLUG 或 --campaign SLUG 指定要推送的内容（二选一）")
    if lesson is not None:
        if project.lesson(lesson) is None:
            known = "、".join(item.slug for item in project.lessons)
            raise PublishError(f"没有课程 '{lesson}'（现有：{known}）")
        return [lesson]
    found = next((item for item in project.campaigns if item.slug == campaign), None)
    if found is None:
        known = "、".join(item.slug for item in project.campaigns) or "无"
        raise PublishError(f"没有宣传活动 '{campaign}'（现有：{known}）")
    slugs: list[str] = []
    for activity in found.activities:
        if is_wechat_channel(activity):
            slugs.extend(item.slug for item in activity.lessons if item.slug not in slugs)
    if not slugs:
        raise PublishError(f"宣传活动 '{campaign}' 里没有渠道为“公众号”并关联了课程的活动，没有可推送的文章")
    return slugs


def publish_wechat(
    project_dir: Path,
    *,
    lesson: str | None = None,
    campaign: str | None = None,
    dry_run: bool = False,
    newspic: bool = False,
    env: Mapping[str, str] | None = None,
    client: HttpClient | None = None,
    tokens: TokenStore | None = None,
    media: MediaCache | None = None,
    log: Callable[[str], None] = lambda line: None,
    today: dt.date | None = None,
) -> list[PublishedDraft]:
    """Create one draft per selected lesson; with ``dry_run``, only describe the requests.

    With ``newspic`` the drafts are image posts (图片消息: the lesson's cards and a
    plain text) instead of articles. Pictures already uploaded (same bytes, same
    account) are not sent again: ``media`` remembers them, by default beside the token.

    Raises :class:`ContentError` for content errors, :class:`PublishError` (and its
    :class:`WechatApiError`) for everything else; nothing is uploaded before every
    selected post has passed the draft API's limits.
    """
    env = os.environ if env is None else env
    diagnostics = Diagnostics()
    project = load_project(project_dir.resolve(), diagnostics, today)
    if project is None:
        raise ContentError(diagnostics)
    slugs = select_lessons(project, lesson, campaign)
    base_url = (env.get(ENV_API_BASE) or API_BASE).rstrip("/")
    appid, secret = env.get(ENV_APPID, ""), env.get(ENV_SECRET, "")
    if not dry_run and not (appid and secret):
        missing = " 和 ".join(name for name, value in ((ENV_APPID, appid), (ENV_SECRET, secret)) if not value)
        raise PublishError(
            f"请先设置环境变量 {missing}（公众平台 → 设置与开发 → 基本配置里的开发者 ID 和密码）"
        )

    with tempfile.TemporaryDirectory(prefix="kepu-publish-") as scratch:
        out = Path(scratch) / "public"
        result = build(project.root, out, only=["posts"], today=today)
        for warning in result.diagnostics.warnings:
            log(str(warning))
        plans = [_read_plan(out, slug, newspic) for slug in slugs]
        problems = [f"《{plan.title}》：{problem}" for plan in plans for problem in plan.problems()]
        if problems:
            raise PublishError("这些文章不符合草稿接口的要求，没有推送任何内容：\n" + "\n".join(problems))
        if dry_run:
            return [_describe(plan, base_url, appid, log) for plan in plans]
        store = tokens or TokenStore(default_token_folder(env))
        api = WechatApi(appid, secret, base_url, client, store)
        uploads = Uploads(api, media if media is not None else MediaCache(store.folder, appid), log)
        return [
            _publish_newspic(uploads, plan) if plan.newspic else _publish(uploads, plan) for plan in plans
        ]


def _read_plan(out: Path, slug: str, newspic: bool = False) -> DraftPlan:
    kind = "post-newspic-json" if newspic else "post-json"
    fields = json.loads((out / lesson_post_path(slug, kind)).read_text(encoding="utf-8"))
    return DraftPlan(slug, fields, out / lesson_posts_folder(slug), out)


def _article(plan: DraftPlan, content: str, thumb_media_id: str) -> dict[str, object]:
    article = {name: value for name, value in plan.fields.items() if name != "kepu"}
    article["content"] = content
    article["thumb_media_id"] = thumb_media_id
    article["pic_crop_235_1"] = "0_0_1_1"
    article["pic_crop_1_1"] = f"{SQUARE_CROP:.6f}_0_{1 - SQUARE_CROP:.6f}_1"
    return article


def _newspic_article(plan: DraftPlan, media_ids: list[str]) -> dict[str, object]:
    article = {name: value for name, value in plan.fields.items() if name != "kepu"}
    article["image_info"] = {"image_list": [{"image_media_id": media_id} for media_id in media_ids]}
    return article


def _describe(plan: DraftPlan, base_url: str, appid: str, log: Callable[[str], None]) -> PublishedDraft:
    def size(path: Path) -> str:
        return f"{path.stat().st_size / 1024:.1f} KB"

    log(f"《{plan.title}》（{plan.slug}）将发出这些请求（已上传过的图片不再上传）：")
    log(f"  POST {base_url}/cgi-bin/stable_token  appid={appid or '（未设置 ' + ENV_APPID + '）'} secret=***")
    material = f"{base_url}/cgi-bin/material/add_material?access_token=***&type=image"
    if plan.newspic:
        for card in plan.cards():
            log(f"  POST {material}  media={card.name}（{size(card)}）")
        article = _newspic_article(
            plan, [f"<第 {n} 张图的 media_id>" for n in range(1, len(plan.cards()) + 1)]
        )
    else:
        for src, path in plan.images():
            log(f"  POST {base_url}/cgi-bin/media/uploadimg?access_token=***  media={src}（{size(path)}）")
        log(f"  POST {material}  media={plan.cover.name}（{size(plan.cover)}）")
        article = _article(
            plan, f"<{len(str(plan.fields['content']))} 个字符的正文>", "<上传封面得到的 media_id>"
        )
    log(
        f"  POST {base_url}/cgi-bin/draft/add?access_token=***  "
        + json.dumps({"articles": [article]}, ensure_ascii=False)
    )
    return PublishedDraft(plan.slug, plan.title, None)


class Uploads:
    """The pictures of a publish run: each converted if WeChat would refuse it, sent once."""

    def __init__(self, api: WechatApi, cache: MediaCache, log: Callable[[str], None]):
        self.api, self.cache, self.log = api, cache, log
        self.reused = 0

    def article_image(self, path: Path) -> str:
        """media/uploadimg (JPG/PNG under 1 MB): the image's mmbiz URL."""
        return self._upload("uploadimg", path, BODY_IMAGE_BYTES_MAX, self.api.upload_article_image)

    def permanent_image(self, path: Path) -> str:
        """material/add_material (an image under 10 MB): its permanent media_id."""
        return self._upload("material", path, MATERIAL_BYTES_MAX, self.api.add_image_material)

    def _upload(self, kind: str, path: Path, limit: int, send: Callable[[str, bytes], str]) -> str:
        """Convert the picture if WeChat would refuse it; send it unless the same bytes went before."""
        data, name = upload_ready(path, limit)
        known = self.cache.get(kind, data)
        if known:
            self.reused += 1
            return known
        answer = send(name, data)
        self.cache.put(kind, data, answer)
        return answer

    def forget_permanent(self, paths: list[Path]) -> None:
        for path in paths:
            self.cache.forget("material", upload_ready(path, MATERIAL_BYTES_MAX)[0])


MATERIAL_BYTES_MAX = 10_000_000  # add_material: "图片（image）: 10M，支持bmp/png/jpeg/jpg/gif格式"
DELETED_MATERIAL = 40007  # "invalid media_id": the material was deleted since it was cached


def upload_ready(path: Path, limit: int) -> tuple[bytes, str]:
    """The file's bytes when WeChat takes them (JPG or PNG under ``limit``), else a re-encoded copy."""
    data = path.read_bytes()
    if (data.startswith(b"\xff\xd8") or data.startswith(b"\x89PNG")) and len(data) < limit:
        return data, path.name
    converted = upload_ready_image(path)
    if converted is None or len(converted) >= limit:
        raise PublishError(f"图片 {path.name} 无法转成小于 {limit // 1_000_000} MB 的 JPG/PNG")
    suffix = ".png" if converted.startswith(b"\x89PNG") else ".jpg"
    return converted, path.with_suffix(suffix).name


def _publish(uploads: Uploads, plan: DraftPlan) -> PublishedDraft:
    log = uploads.log
    content = str(plan.fields["content"])
    uploaded: dict[str, str] = {}
    reused_before = uploads.reused
    for src, path in plan.images():
        url = uploads.article_image(path)
        uploaded[src] = url
        content = content.replace(f'src="{src}"', f'src="{html.escape(url)}"')
        log(f"正文图片 {src} → {url}")
    cover_id = uploads.permanent_image(plan.cover)
    log(f"封面 {plan.cover.name}（media_id={cover_id}）")
    try:
        media_id = uploads.api.add_draft(_article(plan, content, cover_id))
    except WechatApiError as error:
        if error.code != DELETED_MATERIAL:
            raise
        # The cached cover was deleted from the material library: upload it again, once.
        uploads.forget_permanent([plan.cover])
        cover_id = uploads.permanent_image(plan.cover)
        media_id = uploads.api.add_draft(_article(plan, content, cover_id))
    log(
        f"已在草稿箱新建《{plan.title}》（media_id={media_id}）：请到公众平台 → 内容与互动 → 草稿箱检查后再发表"
    )
    return PublishedDraft(plan.slug, plan.title, media_id, uploaded, uploads.reused - reused_before)


def _publish_newspic(uploads: Uploads, plan: DraftPlan) -> PublishedDraft:
    """An image post: every card as permanent material, then draft/add with their media ids."""
    reused_before = uploads.reused
    cards = plan.cards()
    media_ids = [uploads.permanent_image(card) for card in cards]
    uploads.log(f"《{plan.title}》的 {len(cards)} 张卡片已上传为永久素材")
    try:
        media_id = uploads.api.add_draft(_newspic_article(plan, media_ids))
    except WechatApiError as error:
        if error.code != DELETED_MATERIAL:
            raise
        uploads.forget_permanent(cards)
        media_ids = [uploads.permanent_image(card) for card in cards]
        media_id = uploads.api.add_draft(_newspic_article(plan, media_ids))
    uploads.log(
        f"已在草稿箱新建图片消息《{plan.title}》（media_id={media_id}）：请到公众平台 → 草稿箱检查后再发表"
    )
    return PublishedDraft(plan.slug, plan.title, media_id, {}, uploads.reused - reused_before)
