"""TextDocumentView on documents logged with rerun-sdk: markdown rendered, plain text verbatim
in a monospace font, the document at the time cursor, Clear honoured."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QFontInfo, QImage
from ui_views_support import write_recording

from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.document.text_document import TextDocumentView

MARKDOWN = "# Title\n\nHello world\n\n- *one*\n- two\n"  # no descenders in the first lines
PLAIN = "# not a heading\n*not emphasis*"
LONG = "\n".join(f"line {i}" for i in range(200))
CODE = "`iiiiiiiiii`\n\n```\nMMMMMMMMMM\n```\n\nsee [the docs](https://rerun.io)"


@pytest.fixture
def docs_db(tmp_path, qapp):
    def log(rr, rec):
        rec.set_time("frame", sequence=0)
        rec.log("md", rr.TextDocument(MARKDOWN, media_type=rr.MediaType.MARKDOWN))
        rec.log("plain", rr.TextDocument(PLAIN))
        rec.log("mono", rr.TextDocument("iiiiiiiiii\nMMMMMMMMMM"))
        rec.log("long", rr.TextDocument(LONG))
        rec.log("mdcode", rr.TextDocument(CODE, media_type=rr.MediaType.MARKDOWN))
        rec.set_time("frame", sequence=5)
        rec.log("md", rr.TextDocument("second *version*", media_type=rr.MediaType.TEXT))
        rec.set_time("frame", sequence=8)
        rec.log("md", rr.Clear(recursive=False))

    return write_recording(tmp_path / "docs.rrd", tmp_path, log)


def _view(qtbot, db, entities, t):
    tc = TimeControl()
    tc.set_timeline("frame")
    tc.set_time(t)
    view = TextDocumentView(db, [EntityPath.parse(e) for e in entities], tc)
    qtbot.addWidget(view)
    view.resize(420, 300)
    view.redraw_now()
    return view, tc


def _ink(view: TextDocumentView) -> np.ndarray:
    """Dark pixels of the rendered text (the viewport, 3 px in from its edges)."""
    image = view.browser.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    arr = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    arr = arr.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 3]
    grey = arr.reshape(image.height(), image.width(), 3).mean(axis=2)
    return (grey < 110)[3:-3, 3:-3]


def _runs(mask_rows: np.ndarray, gap: int = 1) -> list[tuple[int, int]]:
    """(first, last) index of each run of True values; runs less than ``gap`` apart are one
    (the dot of an i and its stem)."""
    runs: list[tuple[int, int]] = []
    for i in np.flatnonzero(mask_rows):
        if runs and i - runs[-1][1] <= gap:
            runs[-1] = (runs[-1][0], int(i))
        else:
            runs.append((int(i), int(i)))
    return runs


def test_markdown_heading_is_rendered_as_a_heading(qtbot, docs_db):
    view, _ = _view(qtbot, docs_db, ["/md"], 0)
    doc = view.browser.document()
    first = doc.firstBlock()
    assert first.text() == "Title" and first.blockFormat().headingLevel() == 1
    assert "#" not in view.browser.toPlainText() and "*" not in view.browser.toPlainText()
    lines = _runs(_ink(view).any(axis=1))
    heading, body = lines[0], lines[1]
    # "Title" is drawn much taller than "Hello world" (same ascenders, no descenders).
    assert heading[1] - heading[0] > 1.5 * (body[1] - body[0]), lines


def test_plain_text_is_shown_verbatim_in_monospace(qtbot, docs_db):
    view, _ = _view(qtbot, docs_db, ["/plain"], 0)
    assert view.browser.toPlainText() == PLAIN
    block = view.browser.document().firstBlock()
    while block.isValid():
        assert block.blockFormat().headingLevel() == 0
        block = block.next()
    assert QFontInfo(view.browser.document().defaultFont()).fixedPitch()
    # "# not a heading" is drawn at the size of the line under it (a heading would be taller).
    (a_top, a_bottom), (b_top, b_bottom) = _runs(_ink(view).any(axis=1))[:2]
    assert abs((a_bottom - a_top) - (b_bottom - b_top)) <= 2


def test_plain_text_columns_line_up(qtbot, docs_db):
    """Monospace in pixels: ten i's are as wide as ten M's."""
    view, _ = _view(qtbot, docs_db, ["/mono"], 0)
    ink = _ink(view)
    (i_top, i_bottom), (m_top, m_bottom) = _runs(ink.any(axis=1))[:2]
    i_cols = np.flatnonzero(ink[i_top:i_bottom + 1].any(axis=0))
    m_cols = np.flatnonzero(ink[m_top:m_bottom + 1].any(axis=0))
    i_span = i_cols[-1] - i_cols[0]
    m_span = m_cols[-1] - m_cols[0]
    assert m_span > 40 and abs(i_span - m_span) <= 0.15 * m_span, (i_span, m_span)


def test_the_document_at_the_cursor_and_clear(qtbot, docs_db):
    view, tc = _view(qtbot, docs_db, ["/md"], -1)
    assert view.shown is None and "(empty)" in view.browser.toPlainText()
    tc.set_time(3)
    qtbot.waitUntil(lambda: view.shown is not None and view.shown.text == MARKDOWN)
    assert view.browser.document().firstBlock().blockFormat().headingLevel() == 1
    tc.set_time(6)
    qtbot.waitUntil(lambda: view.browser.toPlainText() == "second *version*")
    assert not view.shown.is_markdown  # text/plain: the asterisks stay
    tc.set_time(8)
    qtbot.waitUntil(lambda: view.shown is None)
    assert "(empty)" in view.browser.toPlainText()


def test_moving_within_one_document_keeps_the_scroll_position(qtbot, docs_db):
    view, tc = _view(qtbot, docs_db, ["/long"], 0)
    view.show()
    qtbot.waitExposed(view)
    bar = view.browser.verticalScrollBar()
    assert bar.maximum() > 0
    bar.setValue(bar.maximum() // 2)
    scrolled = bar.value()
    assert scrolled > 0
    count = view.redraw_count
    tc.set_time(4)
    qtbot.waitUntil(lambda: view.redraw_count > count)
    assert bar.value() == scrolled


def test_accepts_and_several_documents(qtbot, docs_db):
    assert TextDocumentView.accepts(docs_db, EntityPath.parse("/md"))
    assert not TextDocumentView.accepts(docs_db, EntityPath.parse("/__properties"))
    view, _ = _view(qtbot, docs_db, ["/plain", "/md"], 0)
    assert view.shown.entity == EntityPath.parse("/plain")
    assert not view.note.isHidden() and "2 documents" in view.note.text()


def test_markdown_code_is_monospace_and_links_readable_on_dark(qtbot, docs_db):
    tc = TimeControl()
    tc.set_timeline("frame")
    tc.set_time(0)
    view = TextDocumentView(docs_db, [EntityPath.parse("/mdcode")], tc)
    qtbot.addWidget(view)
    view.setStyleSheet("QWidget { background-color: #15181e; color: #d7dce3; }")
    view.resize(420, 300)
    view.redraw_now()
    # Inline code and a fenced block: ten i's as wide as ten M's.
    image = view.browser.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    arr = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    rgb = arr.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 3].reshape(
        image.height(), image.width(), 3)[3:-3, 3:-3].astype(int)
    ink = rgb.mean(axis=2) > 110  # light text on the dark background
    runs = _runs(ink.any(axis=1), gap=3)
    spans = []
    for top, bottom in runs[:2]:
        cols = np.flatnonzero(ink[top:bottom + 1].any(axis=0))
        spans.append(cols[-1] - cols[0])
    assert spans[1] > 40 and abs(spans[0] - spans[1]) <= 0.15 * spans[1], spans
    # The link is drawn in the light accent colour, not the default dark blue.
    link_top, link_bottom = runs[2]
    line = rgb[link_top:link_bottom + 1].reshape(-1, 3)
    accent = np.abs(line - (0x5A, 0xA9, 0xFF)).max(axis=1) <= 12
    assert accent.sum() >= 10
    dark_blue = np.abs(line - (0, 0, 0xFF)).max(axis=1) <= 40
    assert not dark_blue.any()
