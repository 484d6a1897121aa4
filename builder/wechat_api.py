"""The official-account API that ``kepu publish wechat`` talks to: HTTP, tokens, media ids.

``WechatApi`` wraps the four endpoints drafts need (``cgi-bin/stable_token``,
``media/uploadimg``, ``material/add_material``, ``draft/add``) over any
:class:`HttpClient` (the standard library's by default; tests substitute a fake
server on 127.0.0.1). Access tokens come from ``cgi-bin/stable_token``, which unlike
``cgi-bin/token`` does not invalidate the token another system of the same account is
using; :class:`TokenStore` keeps them on disk until five minutes before they expire,
and they are fetched again when the API says a token is invalid or expired.
:class:`MediaCache` remembers what was uploaded, by content hash, so a re-publish
sends nothing that did not change. Error codes become sentences a user can act on.

What to publish and in which order is :mod:`builder.wechat_publish`'s.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode, urlsplit

from builder.writer import write_atomically

API_BASE = "https://api.weixin.qq.com"
ENV_TOKEN_CACHE = "KEPU_WECHAT_TOKEN_CACHE"
TOKEN_RENEW_BEFORE = 300  # seconds: renew a cached token this long before it expires
# The API's answers meaning "this access_token is not (or no longer) valid".
TOKEN_ERRORS = frozenset({40001, 40014, 42001})

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
