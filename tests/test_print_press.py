"""The print shop's versions of poster and flyer, preflighted with pikepdf.

No PDF/X validator installs here, so this checks, in the PDF itself, what a print
shop's preflight checks first: a PDF/X output intent and version key, TrimBox and
BleedBox at least 3 mm apart on every side inside the MediaBox, every font embedded,
crop marks outside the bleed, and — in every decompressed content stream, form
XObject and pattern — no RGB colour operator, no RGB image and no transparency.
"""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pytest
from conftest import TODAY

from builder.brand import device_cmyk, rgb_to_cmyk
from builder.colour import press_cmyk, press_image, press_profile
from builder.diagnostics import Diagnostics
from builder.outputs import lesson_print_path
from builder.pdf import cmyk_css, cmyk_svg
from builder.project import load_project
from builder.renderers.printing import KINDS, plan_jobs, render_job

MM = 72 / 25.4
RGB_SPACES = {"/DeviceRGB", "/CalRGB"}


def press_render(project_root: Path, kind: str):
    diagnostics = Diagnostics()
    project = load_project(project_root, diagnostics, today=TODAY)
    assert project is not None
    job = next(job for job in plan_jobs(project) if job.kind == kind and "/hypertension-basics/" in job.path)
    return job, render_job(job)


def colour_problems(owner: pikepdf.Object, resources: pikepdf.Object | None, seen: set) -> list[str]:
    """RGB operators and images, and transparency, in a content stream and what it draws."""
    problems: list[str] = []
    spaces = {"fill": "/DeviceGray", "stroke": "/DeviceGray"}
    named = resources.get("/ColorSpace", {}) if resources is not None else {}

    def family(name: str) -> str:
        space = named.get(name) if name in named else None
        if isinstance(space, pikepdf.Array):
            return str(space[0]) if str(space[0]) != "/ICCBased" else f"/ICC{int(space[1].get('/N'))}"
        return name

    for operands, operator in pikepdf.parse_content_stream(owner):
        op = str(operator)
        if op in ("rg", "RG"):
            problems.append(f"{op} {[float(v) for v in operands]}")
        elif op in ("cs", "CS"):
            spaces["fill" if op == "cs" else "stroke"] = family(str(operands[0]))
        elif op in ("sc", "scn", "SC", "SCN"):
            space = spaces["fill" if op.islower() else "stroke"]
            if space in RGB_SPACES or space == "/ICC3":
                problems.append(f"{op} in {space}")
    if resources is None:
        return problems
    for state in resources.get("/ExtGState", {}).values():
        for key in ("/ca", "/CA"):
            if key in state and float(state[key]) < 1:
                problems.append(f"transparency {key} {float(state[key])}")
        if "/SMask" in state and str(state["/SMask"]) != "/None":
            problems.append("soft mask")
    children = list(resources.get("/XObject", {}).values()) + list(resources.get("/Pattern", {}).values())
    for child in children:
        if child.objgen in seen:
            continue
        seen.add(child.objgen)
        if child.get("/Subtype") == "/Image":
            space = child.get("/ColorSpace")
            if str(space) in RGB_SPACES or "/SMask" in child:
                problems.append(f"image in {space}")
        elif "/Length" in child or isinstance(child, pikepdf.Stream):
            problems += colour_problems(child, child.get("/Resources"), seen)
    if "/Group" in owner:
        problems.append(f"transparency group {owner['/Group'].get('/CS')}")
    return problems


def operations(owner: pikepdf.Object, resources: pikepdf.Object | None) -> list[tuple[list[float], str]]:
    """Every (numeric operands, operator) the page draws, through its forms and patterns."""
    found = [
        ([float(v) for v in operands if isinstance(v, int | float | pikepdf.Object) and _number(v)], str(op))
        for operands, op in pikepdf.parse_content_stream(owner)
    ]
    if resources is not None:
        children = list(resources.get("/XObject", {}).values()) + list(resources.get("/Pattern", {}).values())
        for child in children:
            if child.get("/Subtype") != "/Image":
                found += operations(child, child.get("/Resources"))
    return found


def _number(value: object) -> bool:
    try:
        float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


@pytest.mark.parametrize("kind", ["poster-pdf", "flyer-pdf"])
def test_press_version_is_pdfx_cmyk_with_bleed_crop_marks_and_embedded_fonts(project: Path, kind: str):
    job, rendered = press_render(project, kind)
    assert job.press_path == lesson_print_path("hypertension-basics", kind.replace("-pdf", "-press-pdf"))
    assert job.press_path.startswith("print/lessons/hypertension-basics/press/")
    pdf = pikepdf.open(io.BytesIO(rendered.press))

    intents = pdf.Root.OutputIntents
    assert len(intents) == 1 and intents[0].S == "/GTS_PDFX"
    # The output intent embeds the CMYK printer profile the colours were converted for.
    profile = intents[0].DestOutputProfile
    icc = profile.read_bytes()
    assert int(profile.N) == 4 and icc == press_profile()
    assert icc[12:20] == b"prtrCMYK" and icc[8] == 2  # output device, CMYK, ICC v2 (PDF 1.4)
    assert str(intents[0].OutputConditionIdentifier) == "Custom" and "CMYK" in str(intents[0].Info)
    assert str(pdf.docinfo["/GTS_PDFXVersion"]) == "PDF/X-1a:2003"
    assert str(pdf.docinfo["/Trapped"]) == "/False" and "/ID" in pdf.trailer
    assert "/CreationDate" in pdf.docinfo and "/ModDate" in pdf.docinfo

    for page in pdf.pages:
        media, bleed, trim = ([float(v) for v in page[box]] for box in ("/MediaBox", "/BleedBox", "/TrimBox"))
        for side in range(4):
            outward = -1 if side < 2 else 1
            assert (bleed[side] - trim[side]) * outward >= 3 * MM - 0.01, (bleed, trim)
            assert (media[side] - bleed[side]) * outward >= 0, (media, bleed)
        assert colour_problems(page, page.Resources, set()) == [], kind
        # Crop marks in the registration colour, drawn by the page, outside the bleed.
        registration = [ops for ops, op in operations(page, page.Resources) if op == "K"]
        assert [1.0, 1.0, 1.0, 1.0] in registration
        for font in page.Resources.Font.values():
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.FontDescriptor
                assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")), font


def test_office_version_stays_rgb_without_bleed_or_output_intent(project: Path):
    _, rendered = press_render(project, "poster-pdf")
    pdf = pikepdf.open(io.BytesIO(rendered.pdf))
    assert "/OutputIntents" not in pdf.Root
    page = pdf.pages[0]
    assert [float(v) for v in page.MediaBox] == [float(v) for v in page.TrimBox]
    assert any(problem.startswith(("rg", "RG")) for problem in colour_problems(page, page.Resources, set()))


def test_press_kinds_are_in_the_manifest_kinds_and_only_posters_and_flyers_have_them(project: Path):
    assert {"poster-press-pdf", "flyer-press-pdf"} <= set(KINDS)
    diagnostics = Diagnostics()
    loaded = load_project(project, diagnostics, today=TODAY)
    assert loaded is not None
    pressed = {job.kind for job in plan_jobs(loaded) if job.press_path}
    assert pressed == {"poster-pdf", "flyer-pdf"}


def test_cmyk_conversion_prints_greys_and_text_black_with_black_ink_alone():
    assert rgb_to_cmyk((255, 255, 255)) == (0, 0, 0, 0)
    assert rgb_to_cmyk((29, 37, 33)) == (0, 0, 0, 1)  # the text's near-black: 100 % K
    assert rgb_to_cmyk((128, 128, 128)) == (0, 0, 0, 0.498)
    cyan, magenta, yellow, black = rgb_to_cmyk((31, 122, 77))
    assert cyan > 0.7 and magenta == 0 and 0.3 < yellow < 0.4 and 0.4 < black < 0.6
    assert device_cmyk((255, 0, 0)) == "device-cmyk(0 1 1 0)"
    assert cmyk_css("color: #fff; border: 1px solid rgb(255, 0, 0); background: black") == (
        "color: device-cmyk(0 0 0 0); border: 1px solid device-cmyk(0 1 1 0); background: device-cmyk(0 0 0 1)"
    )
    svg = cmyk_svg('<svg viewBox="0 0 1 1" fill="none"><path stroke="#000" d="M0 0"/></svg>')
    assert svg == (
        '<svg color="device-cmyk(0 0 0 1)" viewBox="0 0 1 1" fill="none">'
        '<path stroke="device-cmyk(0 0 0 1)" d="M0 0"/></svg>'
    )


def test_press_colours_go_through_the_cmyk_profile_and_greys_stay_black_ink():
    # The brand green as the profile prints it: four inks of a SWOP press, not the naive formula.
    cyan, magenta, yellow, black = press_cmyk((31, 122, 77))
    assert (cyan, magenta, yellow, black) != rgb_to_cmyk((31, 122, 77))
    assert cyan > 0.7 and 0.15 < magenta < 0.45 and yellow > 0.7 and black < 0.3
    assert press_cmyk((29, 37, 33)) == (0, 0, 0, 1) and press_cmyk((255, 255, 255)) == (0, 0, 0, 0)
    from PIL import Image

    picture = Image.new("RGB", (2, 1), (128, 128, 128))
    picture.putpixel((1, 0), (31, 122, 77))
    converted = press_image(picture)
    assert converted.mode == "CMYK"
    assert converted.getpixel((0, 0)) == (0, 0, 0, 127)  # grey: black ink alone
    expected = [round(v * 255) for v in press_cmyk((31, 122, 77))]
    assert all(abs(a - b) <= 1 for a, b in zip(converted.getpixel((1, 0)), expected, strict=True))


def test_a_missing_cmyk_profile_is_an_environment_problem_in_one_sentence(monkeypatch: pytest.MonkeyPatch):
    import builder.colour as colour
    from builder.cli import _environment_cause

    monkeypatch.setattr(colour, "CMYK_PROFILE_PATHS", ("/nonexistent/default_cmyk.icc",))
    colour.press_profile_path.cache_clear()
    colour.press_profile.cache_clear()
    try:
        with pytest.raises(colour.ColourProfileMissing) as missing:
            colour.press_profile()
        assert colour.press_profile_digest() == "none"  # the key is made; the render then fails
        cause = _environment_cause(missing.value)
        assert cause is not None and "libgs-common" in cause and "\n" not in cause
    finally:
        colour.press_profile_path.cache_clear()
        colour.press_profile.cache_clear()
