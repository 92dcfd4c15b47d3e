"""A ``TextDocument`` at the time cursor: markdown rendered, anything else shown verbatim.

``TextDocument:media_type`` ``text/markdown`` is rendered as markdown (Qt's CommonMark
reader: headings, lists, emphasis, code, tables, links); any other media type, or none
(Rerun's default is plain text), is shown as is, in a monospace font with no markup
interpreted. Like Rerun, one view shows one document: when several of its entities have a
document at the cursor the view says so and shows the first. Before the first document is
logged (or after a Clear) the view shows "(empty)". The text is set only when its row
changed, so the reader's scroll position survives cursor moves within one document.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QFontInfo,
    QPalette,
    QTextCharFormat,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import QLabel, QTextBrowser, QVBoxLayout, QWidget

from viewer.scene.query import LatestAt
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.base import View

TEXT = "TextDocument:text"
MEDIA_TYPE = "TextDocument:media_type"
MARKDOWN = "text/markdown"
PLAIN = "text/plain"
#: Link colour on a dark background (the theme's accent).
LINK_ON_DARK = "#5aa9ff"


@dataclass(frozen=True, slots=True)
class ShownDocument:
    """What the view shows: the document's entity, text and media type."""

    entity: EntityPath
    text: str
    media_type: str
    key: tuple[object, ...]

    @property
    def is_markdown(self) -> bool:
        return self.media_type.strip().lower() == MARKDOWN


def document_at(query: LatestAt, entity: EntityPath) -> ShownDocument | None:
    """The document of ``entity`` at the cursor (Clear honoured), None if there is none."""
    text = query.result(entity, TEXT)
    if text is None or len(text.value) == 0 or not text.value[0].is_valid:
        return None
    media = query.result(entity, MEDIA_TYPE)
    media_type = PLAIN
    if media is not None and len(media.value) and media.value[0].is_valid:
        media_type = str(media.value[0].as_py()) or PLAIN
    key = tuple(None if r is None else (int(r.row_id.time_ns), int(r.row_id.inc))
                for r in (text, media))
    return ShownDocument(entity, str(text.value[0].as_py()), media_type, key)


class TextDocumentView(View):
    kind_name = "Text document"

    def __init__(self, db: EntityDb, entities: Iterable[EntityPath], time_control: TimeControl,
                 title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(db, entities, time_control, title, parent)
        self.browser = QTextBrowser(self)
        self.browser.setOpenExternalLinks(True)
        self.browser.setReadOnly(True)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.note)
        layout.addWidget(self.browser, 1)
        self._proportional = self.browser.font()
        self._monospace = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        # The concrete family ("monospace" may be an alias a document does not resolve).
        self._monospace_family = QFontInfo(self._monospace).family()
        self.shown: ShownDocument | None = None
        self._shown_key: object = ()  # () = nothing drawn yet

    @classmethod
    def accepts(cls, db: EntityDb, entity: EntityPath) -> bool:
        return TEXT in db.components(entity)

    def redraw(self) -> None:
        query = LatestAt(self.db, self.time_control.timeline, self.time_control.time)
        docs = [d for d in (document_at(query, e) for e in self.entities) if d is not None]
        if len(docs) > 1:
            self.note.setText(f"{len(docs)} documents at this time; this view shows "
                              f"{docs[0].entity}. Give each its own view to see the others.")
        self.note.setVisible(len(docs) > 1)
        doc = docs[0] if docs else None
        key = None if doc is None else (doc.entity, doc.key)
        if key == self._shown_key:
            return
        self._shown_key = key
        self.shown = doc
        if doc is None:
            self._set_font(self._proportional)
            self.browser.setHtml("<p style='color: gray'><i>(empty)</i></p>")
        elif doc.is_markdown:
            self._set_font(self._proportional)
            self.browser.setMarkdown(doc.text)
            self._restyle_markdown()
        else:
            self._set_font(self._monospace)
            self.browser.setPlainText(doc.text)

    def _set_font(self, font: QFont) -> None:
        self.browser.setFont(font)
        self.browser.document().setDefaultFont(font)

    def _restyle_markdown(self) -> None:
        """Qt's markdown reader marks code as "fixed pitch" without naming a monospace
        family (so it can stay proportional) and colours links from the application
        palette (dark blue, unreadable on the dark theme): give code the system monospace
        font and links the widget's own link colour, made light on a dark background."""
        self.browser.ensurePolished()  # the style sheet's colours are in the palette now
        link = self.browser.palette().color(QPalette.ColorRole.Link)
        if self.browser.palette().color(QPalette.ColorRole.Base).lightness() < 128 and \
                link.lightness() < 160:
            link = QColor(LINK_ON_DARK)
        document = self.browser.document()
        cursor = QTextCursor(document)
        block = document.begin()
        while block.isValid():
            code_block = block.blockFormat().hasProperty(QTextFormat.Property.BlockCodeFence)
            it = block.begin()
            while not it.atEnd():
                fragment = it.fragment()
                fmt = fragment.charFormat()
                change = QTextCharFormat()
                if code_block or fmt.fontFixedPitch():
                    change.setFontFamilies([self._monospace_family])
                if fmt.isAnchor():
                    change.setForeground(link)
                if change.properties():
                    cursor.setPosition(fragment.position())
                    cursor.setPosition(fragment.position() + fragment.length(),
                                       QTextCursor.MoveMode.KeepAnchor)
                    cursor.mergeCharFormat(change)
                it += 1
            block = block.next()
