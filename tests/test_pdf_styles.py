"""The PDF engine parses a document's stylesheet once and lays it out as WeasyPrint would."""

from __future__ import annotations

from weasyprint import HTML

from builder import pdf

TEXT = "<p>" + "社区卫生服务中心每月为辖区老年人免费测量血压。" * 40 + "</p>"


def page_count_by_weasyprint(html: str) -> int:
    return len(HTML(string=html, base_url=pdf.PROJECT_BASE).render().pages)


def test_one_stylesheet_is_parsed_once_for_every_type_step(tmp_path):
    pdf._stylesheet.cache_clear()
    css = "@page { size: A5; margin: 10mm } p { line-height: 1.6 }"
    for step in (14, 12, 10):
        html = f'<html style="font-size: {step}pt"><head><style>{css}</style></head><body>{TEXT}</body></html>'
        assert len(pdf.lay_out(html, str(tmp_path)).pages) == page_count_by_weasyprint(html)
    assert pdf._stylesheet.cache_info().misses == 1


def test_a_template_with_two_style_elements_keeps_its_cascade(tmp_path):
    # A project's own template may carry a second stylesheet; the later one's rules must still win.
    html = (
        '<html><head><style media="all">@page { size: A5 } p { font-size: 60pt }</style>'
        "<style>p { font-size: 9pt }</style></head><body>" + TEXT + "</body></html>"
    )
    assert len(pdf.lay_out(html, str(tmp_path)).pages) == page_count_by_weasyprint(html) == 1


def test_important_rules_keep_their_rank(tmp_path):
    # An inline !important beats the stylesheet's !important in the document's own cascade.
    html = (
        "<html><head><style>@page { size: A5 } p { font-size: 60pt !important }</style></head><body>"
        + TEXT.replace("<p>", '<p style="font-size: 9pt !important">')
        + "</body></html>"
    )
    assert len(pdf.lay_out(html, str(tmp_path)).pages) == page_count_by_weasyprint(html) == 1
