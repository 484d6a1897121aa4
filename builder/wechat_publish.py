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
server on 127.0.0.1. The HTTP calls, access tokens and the media cache are
:mod:`builder.wechat_api`'s; this module decides what goes up, in which order.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from builder.calendar import is_wechat_channel
from builder.diagnostics import ContentError, Diagnostics
from builder.images import UPLOAD_BYTES_MAX, upload_ready_image
from builder.model import Project
from builder.outputs import LESSON_POSTS, lesson_post_path, lesson_posts_folder
from builder.pipeline import build
from builder.post_cards import NEWSPIC_IMAGES_MAX
from builder.post_pictures import COVER_SIZE
from builder.project import load_project
from builder.renderers.posts import (
    AUTHOR_MAX,
    CONTENT_BYTES_MAX,
    CONTENT_MAX,
    DIGEST_MAX,
    TITLE_MAX,
)
from builder.wechat_api import (
    API_BASE,
    HttpClient,
    MediaCache,
    PublishError,
    TokenStore,
    WechatApi,
    WechatApiError,
    default_token_folder,
)

ENV_APPID = "KEPU_WECHAT_APPID"
ENV_SECRET = "KEPU_WECHAT_SECRET"
ENV_API_BASE = "KEPU_WECHAT_API_BASE"
# The cover is exactly 2.35:1; for the 1:1 crop WeChat shows in lists, take its centre.
SQUARE_CROP = (COVER_SIZE[0] - COVER_SIZE[1]) / 2 / COVER_SIZE[0]


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
        return self._upload("uploadimg", path, UPLOAD_BYTES_MAX, self.api.upload_article_image)

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
