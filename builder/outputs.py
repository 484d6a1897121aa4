"""Where each artifact lives in the output folder: one table of kind → path.

The renderers that write an artifact and everything that points at one — the
posting schedule's columns, ``kepu publish wechat`` reading the rendered posts, a
campaign's recommended material — take its path from here, so a file cannot move
without the pointers to it moving too. Paths are output-relative, forward slashes.
"""

from __future__ import annotations

# A lesson's printed materials, under print/lessons/<slug>/.
LESSON_PRINT = {
    "flyer-pdf": "flyer.pdf",
    "flyer-png": "flyer.png",  # the flyer rasterised for WeChat groups
    "prescription-pdf": "prescription.pdf",
    "poster-pdf": "poster.pdf",
    # The print shop's versions (CMYK, PDF/X, 3 mm bleed, crop marks).
    "poster-press-pdf": "press/poster.pdf",
    "flyer-press-pdf": "press/flyer.pdf",
}
PRESS_KINDS = ("poster-press-pdf", "flyer-press-pdf")
# A quiz's sheets, under print/quizzes/<slug>/.
QUIZ_PRINT = {"quiz-pdf": "quiz.pdf", "answer-key-pdf": "answer-key.pdf"}
# A campaign's plan, under print/campaigns/<slug>/.
CAMPAIGN_PRINT = {"plan-pdf": "plan.pdf"}
# An on-site activity's sheets, print/campaigns/<slug>/events/<number>-<name>.
EVENT_PRINT = {"event-flyer-pdf": "flyer.pdf", "signin-pdf": "signin.pdf"}
# A lesson's post, under posts/lessons/<slug>/ (body images under images/).
LESSON_POSTS = {
    "post-html": "post.html",
    "post-dark-html": "post-dark.html",  # the same post as WeChat's dark mode recolours it
    "post-json": "post.json",
    "post-cover": "cover.jpg",
    "post-thumb": "thumb.jpg",
    "group-text": "group.txt",
    "post-newspic-json": "post-newspic.json",  # the image post (图片消息/小绿书) for draft/add
}
# A campaign's calendars, under posts/campaigns/<slug>/.
CAMPAIGN_POSTS = {"calendar-ics": "calendar.ics", "schedule-csv": "schedule.csv"}
# A campaign's daily tips (one group message and one square card a day), under posts/campaigns/<slug>/tips/.
CAMPAIGN_TIPS = {"tip-text": "txt", "tip-card": "jpg"}
POSTS_INDEX = "posts/index.html"
# A campaign's 总结评估 report, under reports/campaigns/<slug>/.
CAMPAIGN_REPORT = {
    "campaign-report-json": "report.json",
    "campaign-report-html": "report.html",
    "campaign-report-pdf": "report.pdf",
}
# A lesson's videos, under video/lessons/<slug>/.
LESSON_VIDEO = {
    "video": "video.mp4",
    "video-landscape": "landscape.mp4",
    "video-captions": "captions.srt",
    "video-cover": "cover.jpg",
}


def lesson_print_folder(slug: str) -> str:
    return f"print/lessons/{slug}"


def lesson_print_path(slug: str, kind: str) -> str:
    """``lesson_print_path("flu", "flyer-pdf")`` → ``print/lessons/flu/flyer.pdf``."""
    return f"{lesson_print_folder(slug)}/{LESSON_PRINT[kind]}"


def quiz_print_path(slug: str, kind: str) -> str:
    return f"print/quizzes/{slug}/{QUIZ_PRINT[kind]}"


def campaign_print_path(slug: str, kind: str) -> str:
    return f"print/campaigns/{slug}/{CAMPAIGN_PRINT[kind]}"


def event_print_path(campaign_slug: str, number: int, kind: str) -> str:
    """An activity's sheet, numbered by the activity's place in the campaign (from 1)."""
    return f"print/campaigns/{campaign_slug}/events/{number}-{EVENT_PRINT[kind]}"


def lesson_posts_folder(slug: str) -> str:
    return f"posts/lessons/{slug}"


def lesson_post_path(slug: str, kind: str) -> str:
    """``lesson_post_path("flu", "post-json")`` → ``posts/lessons/flu/post.json``."""
    return f"{lesson_posts_folder(slug)}/{LESSON_POSTS[kind]}"


def post_image_src(name: str) -> str:
    """A body image as the article names it, relative to the post (replaced on upload)."""
    return f"images/{name}"


def post_image_path(slug: str, name: str) -> str:
    return f"{lesson_posts_folder(slug)}/{post_image_src(name)}"


def post_card_path(slug: str, number: int) -> str:
    """An image post's card (kind ``post-card``), numbered from 1: ``posts/lessons/flu/cards/01.jpg``."""
    return f"{lesson_posts_folder(slug)}/cards/{number:02d}.jpg"


def campaign_post_path(slug: str, kind: str) -> str:
    return f"posts/campaigns/{slug}/{CAMPAIGN_POSTS[kind]}"


def campaign_tip_path(slug: str, day: object, kind: str) -> str:
    """``campaign_tip_path("bp-year", date(2026, 7, 6), "tip-card")`` → ``posts/campaigns/bp-year/tips/2026-07-06.jpg``."""
    return f"posts/campaigns/{slug}/tips/{day}.{CAMPAIGN_TIPS[kind]}"


def campaign_report_path(slug: str, kind: str) -> str:
    """``campaign_report_path("flu-month", "campaign-report-pdf")`` → ``reports/campaigns/flu-month/report.pdf``."""
    return f"reports/campaigns/{slug}/{CAMPAIGN_REPORT[kind]}"


def lesson_video_path(slug: str, kind: str = "video") -> str:
    return f"video/lessons/{slug}/{LESSON_VIDEO[kind]}"


# The field kit (builder/renderers/fieldkit/): a handbook under handbooks/<slug>/, a
# lesson's pocket cards under cards/lessons/<slug>/ and its lecture slides under slides/lessons/<slug>/.
HANDBOOK_PRINT = {"handbook-pdf": "handbook.pdf", "handbook-imposed-pdf": "handbook-imposed.pdf"}
LESSON_CARDS = {"pocket-card-pdf": "card.pdf", "pocket-sheet-pdf": "sheet.pdf"}
LESSON_SLIDES = {"slides-pptx": "slides.pptx", "slides-pdf": "slides.pdf"}
# A lesson's display boards under boards/lessons/<slug>/, the print shop's versions under press/.
LESSON_BOARDS = {
    "board-pdf": "board.pdf",
    "xbanner-pdf": "xbanner.pdf",
    "board-press-pdf": "press/board.pdf",
    "xbanner-press-pdf": "press/xbanner.pdf",
}


def handbook_path(slug: str, kind: str) -> str:
    return f"handbooks/{slug}/{HANDBOOK_PRINT[kind]}"


def pocket_card_path(slug: str, kind: str) -> str:
    return f"cards/lessons/{slug}/{LESSON_CARDS[kind]}"


def slides_path(slug: str, kind: str) -> str:
    return f"slides/lessons/{slug}/{LESSON_SLIDES[kind]}"


def board_path(slug: str, kind: str) -> str:
    return f"boards/lessons/{slug}/{LESSON_BOARDS[kind]}"


# A health room's notices under rooms/<slug>/; a quarter's prescriptions are numbered by the quarter.
ROOM_PRINT = {"room-hours-pdf": "hours.pdf", "room-rules-pdf": "rules.pdf", "room-register-pdf": "register.pdf"}


def room_path(slug: str, kind: str, quarter: int = 0) -> str:
    if kind == "room-prescriptions-pdf":
        return f"rooms/{slug}/prescriptions-q{quarter}.pdf"
    return f"rooms/{slug}/{ROOM_PRINT[kind]}"
