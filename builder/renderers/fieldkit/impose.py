"""Saddle-stitch imposition: an A5 booklet as 2-up A4 sheets for an office duplex printer.

Folded in the middle and stapled on the fold, sheet 1 carries the outermost pages:
its front shows page N (left) and page 1 (right), its back page 2 (left) and page
N−1 (right); sheet 2 carries N−2 | 3 and 4 | N−3, and so on. Printed double-sided
with "flip on short edge", the stack folds into the booklet in reading order.

The page placing is pikepdf's (qpdf): each booklet page becomes a Form XObject on
the A4 side (``Page.add_overlay``), so text, vector art and embedded font subsets
stay as they are. ``pdfimpose`` from PyPI does the same but needs PyMuPDF, a large
AGPL binary; pikepdf is already Kepu's PDF reader. The order is this module's one
piece of arithmetic, and ``tests/test_fieldkit.py`` checks it on the printed PDF.
"""

from __future__ import annotations

import io


def saddle_order(pages: int) -> list[tuple[int, int]]:
    """The (left, right) booklet pages of each printed side, sheet by sheet, front then back.

    ``pages`` must be a multiple of 4 (a sheet folds into 4 pages); pages count from 1.
    """
    if pages <= 0 or pages % 4:
        raise ValueError(f"a saddle-stitched booklet needs a multiple of 4 pages, not {pages}")
    sides = []
    for sheet in range(pages // 4):
        outer, inner = pages - 2 * sheet, 1 + 2 * sheet
        sides.append((outer, inner))  # front
        sides.append((inner + 1, outer - 1))  # back
    return sides


def impose_saddle(booklet: bytes) -> bytes:
    """The booklet PDF imposed 2-up on sheets twice its page width (A5 → A4 landscape)."""
    import pikepdf

    with pikepdf.open(io.BytesIO(booklet)) as source, pikepdf.new() as imposed:
        first = source.pages[0].trimbox
        width, height = float(first[2]) - float(first[0]), float(first[3]) - float(first[1])
        # Each booklet page once as a Form XObject, named by its number: add_overlay would
        # name them at random, and the same booklet must give the same bytes.
        forms = [imposed.copy_foreign(page.as_form_xobject()) for page in source.pages]
        for left, right in saddle_order(len(source.pages)):
            side = imposed.add_blank_page(page_size=(2 * width, height))
            names = {f"/P{number}": forms[number - 1] for number in (left, right)}
            side.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(names))
            placing = f"q 1 0 0 1 0 0 cm /P{left} Do Q q 1 0 0 1 {width:.4f} 0 cm /P{right} Do Q"
            side.obj.Contents = imposed.make_stream(placing.encode("ascii"))
        output = io.BytesIO()
        # A fixed /ID from the content and no dates: the same booklet gives the same bytes.
        imposed.save(output, deterministic_id=True, compress_streams=True)
        return output.getvalue()
