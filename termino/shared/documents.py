"""Legal documents as data: built once from settings and code, shown as a page, a PDF and Markdown.

The privacy notice, the data-processing agreement, the record of processing activities and a business's
booking-page notice are each a `Document`: sections of paragraphs, lists, tables and field lists. Their
builders know what to say; this module knows how to show it, in three renderers that share one structure,
so the page, the PDF and the Markdown file cannot say different things.

A document carries no version or date of its own: those come from the version it is published as (its
`digest` decides whether something changed), and the renderers print them in the head.

PDFs are drawn with ReportLab (pure Python, pinned in pyproject.toml) in the Bitstream Vera fonts that
ship inside its wheel: no system libraries (WeasyPrint needs Pango, which python:slim images lack) and the
same output on every machine. A character the font lacks is written without its accent (ř → r), never as
an empty box.
"""

import hashlib
import io
import json
import os
import unicodedata
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

# --- The structure ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One piece of a section. `kind`:

    p      a paragraph (`text`)
    h      a sub-heading (`text`)
    ul     a bulleted list (`items`)
    dl     label/value pairs (`rows`, each a pair)
    table  a table (`header`, `rows`)
    warn   something the operator or business still has to enter or decide (`text`), shown highlighted
    """

    kind: str
    text: str = ""
    items: tuple[str, ...] = ()
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()

    def to_json(self) -> dict:
        data: dict = {"kind": self.kind}
        if self.text:
            data["text"] = self.text
        if self.items:
            data["items"] = list(self.items)
        if self.header:
            data["header"] = list(self.header)
        if self.rows:
            data["rows"] = [list(row) for row in self.rows]
        return data

    @classmethod
    def from_json(cls, data: dict) -> "Block":
        return cls(
            kind=data["kind"],
            text=data.get("text", ""),
            items=tuple(data.get("items", ())),
            header=tuple(data.get("header", ())),
            rows=tuple(tuple(row) for row in data.get("rows", ())),
        )


def para(text: str) -> Block:
    return Block("p", text=str(text))


def heading(text: str) -> Block:
    return Block("h", text=str(text))


def bullets(items) -> Block:
    return Block("ul", items=tuple(str(item) for item in items))


def fields(rows) -> Block:
    return Block("dl", rows=tuple((str(label), str(value)) for label, value in rows))


def table(header, rows) -> Block:
    return Block("table", header=tuple(str(h) for h in header), rows=tuple(tuple(map(str, r)) for r in rows))


def warning(text: str) -> Block:
    return Block("warn", text=str(text))


@dataclass(frozen=True)
class Section:
    id: str  # stable anchor: tests and links name sections by it
    title: str
    blocks: tuple[Block, ...]

    def to_json(self) -> dict:
        return {"id": self.id, "title": self.title, "blocks": [b.to_json() for b in self.blocks]}

    @classmethod
    def from_json(cls, data: dict) -> "Section":
        return cls(data["id"], data["title"], tuple(Block.from_json(b) for b in data["blocks"]))


@dataclass(frozen=True)
class Document:
    title: str
    language: str
    intro: tuple[Block, ...] = ()
    sections: tuple[Section, ...] = ()
    # Labels the renderers print around the content, in the document's language.
    labels: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "title": self.title,
            "language": self.language,
            "intro": [b.to_json() for b in self.intro],
            "sections": [s.to_json() for s in self.sections],
            "labels": dict(self.labels),
        }

    @classmethod
    def from_json(cls, data: dict) -> "Document":
        return cls(
            title=data["title"],
            language=data["language"],
            intro=tuple(Block.from_json(b) for b in data.get("intro", ())),
            sections=tuple(Section.from_json(s) for s in data.get("sections", ())),
            labels=dict(data.get("labels", {})),
        )

    def section(self, section_id: str) -> Section | None:
        return next((s for s in self.sections if s.id == section_id), None)

    @property
    def warnings(self) -> list[str]:
        return [
            b.text for b in (*self.intro, *(b for s in self.sections for b in s.blocks)) if b.kind == "warn"
        ]

    def plain_text(self) -> str:
        """Everything the document says, as plain text (tests, search, the hand-editable booking notice)."""
        return to_markdown(self, plain=True)


def digest(*documents: Document) -> str:
    """SHA-256 of the documents' content: equal digests, equal text."""
    payload = json.dumps([d.to_json() for d in documents], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


# --- Markdown --------------------------------------------------------------------------------------------


def _md_cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def _md_blocks(blocks, *, plain: bool) -> list[str]:
    out: list[str] = []
    for block in blocks:
        if block.kind == "p":
            out.append(block.text)
        elif block.kind == "h":
            out.append(block.text if plain else f"### {block.text}")
        elif block.kind == "ul":
            out.append("\n".join(f"- {item}" for item in block.items))
        elif block.kind == "dl":
            out.append(
                "\n".join(
                    f"{label}: {value}" if plain else f"- **{label}:** {value}" for label, value in block.rows
                )
            )
        elif block.kind == "warn":
            out.append(f"[!] {block.text}" if plain else f"> **⚠** {block.text}")
        elif block.kind == "table":
            if plain:
                out.append(
                    "\n".join(
                        "- " + "; ".join(f"{h}: {c}" for h, c in zip(block.header, row, strict=False) if c)
                        for row in block.rows
                    )
                )
            else:
                lines = [
                    "| " + " | ".join(_md_cell(h) for h in block.header) + " |",
                    "|" + "|".join(" --- " for _ in block.header) + "|",
                ]
                lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
                out.append("\n".join(lines))
    return out


def to_markdown(document: Document, *, version_line: str = "", plain: bool = False) -> str:
    parts = [document.title if plain else f"# {document.title}"]
    if version_line:
        parts.append(version_line if plain else f"*{version_line}*")
    parts += _md_blocks(document.intro, plain=plain)
    for number, section in enumerate(document.sections, start=1):
        parts.append(f"{number}. {section.title}" if plain else f"## {number}. {section.title}")
        parts += _md_blocks(section.blocks, plain=plain)
    return "\n\n".join(part for part in parts if part) + "\n"


# --- PDF -------------------------------------------------------------------------------------------------

_FONTS_READY = False
_FONT_CMAP: set[int] = set()


def _fonts() -> None:
    """Register the Vera family that ships inside ReportLab's wheel (once per process)."""
    global _FONTS_READY, _FONT_CMAP
    if _FONTS_READY:
        return
    import reportlab
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    folder = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
    faces = {
        "Vera": "Vera.ttf",
        "Vera-Bold": "VeraBd.ttf",
        "Vera-Italic": "VeraIt.ttf",
        "Vera-BoldItalic": "VeraBI.ttf",
    }
    for name, filename in faces.items():
        font = TTFont(name, os.path.join(folder, filename))
        pdfmetrics.registerFont(font)
        if name == "Vera":
            _FONT_CMAP = set(font.face.charToGlyph)
    addMapping("Vera", 0, 0, "Vera")
    addMapping("Vera", 1, 0, "Vera-Bold")
    addMapping("Vera", 0, 1, "Vera-Italic")
    addMapping("Vera", 1, 1, "Vera-BoldItalic")
    _FONTS_READY = True


def _drawable(text: str) -> str:
    """The text with every character the font lacks replaced by its unaccented letter, or "?"."""
    out = []
    for char in text:
        if ord(char) in _FONT_CMAP or char in "\n\t":
            out.append(char)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if ord(c) in _FONT_CMAP)
        out.append(base or "?")
    return "".join(out)


def _rl(text: str) -> str:
    """Plain text as ReportLab paragraph markup."""
    return escape(_drawable(text)).replace("\n", "<br/>")


def to_pdf(document: Document, *, version_line: str = "", author: str = "") -> bytes:
    _fonts()
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_LEFT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        KeepTogether,
        ListFlowable,
        ListItem,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    ink, muted, line = colors.HexColor("#111827"), colors.HexColor("#4b5563"), colors.HexColor("#d1d5db")
    body = ParagraphStyle(
        "body", fontName="Vera", fontSize=9.5, leading=13.5, textColor=ink, alignment=TA_LEFT
    )
    small = ParagraphStyle("small", parent=body, fontSize=8.5, leading=11.5)
    cell_head = ParagraphStyle("cellhead", parent=small, fontName="Vera-Bold")
    title = ParagraphStyle("title", parent=body, fontName="Vera-Bold", fontSize=18, leading=23, spaceAfter=4)
    meta = ParagraphStyle("meta", parent=body, textColor=muted, fontSize=9, spaceAfter=10)
    h2 = ParagraphStyle(
        "h2", parent=body, fontName="Vera-Bold", fontSize=12.5, leading=16, spaceBefore=12, spaceAfter=4
    )
    h3 = ParagraphStyle(
        "h3", parent=body, fontName="Vera-Bold", fontSize=10.5, leading=14, spaceBefore=6, spaceAfter=2
    )
    warn = ParagraphStyle(
        "warn",
        parent=body,
        backColor=colors.HexColor("#fef3c7"),
        borderColor=colors.HexColor("#f59e0b"),
        borderWidth=0.6,
        borderPadding=5,
        spaceBefore=4,
        spaceAfter=8,
    )
    width = A4[0] - 40 * mm

    def grid(rows, col_widths, header: bool) -> Table:
        t = Table(rows, colWidths=col_widths, repeatRows=1 if header else 0, hAlign="LEFT")
        style = [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.4, line),
            ("LEFTPADDING", (0, 0), (-1, -1), 4),
            ("RIGHTPADDING", (0, 0), (-1, -1), 4),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f3f4f6")))
        t.setStyle(TableStyle(style))
        return t

    def flow(blocks) -> list:
        out: list = []
        for block in blocks:
            if block.kind == "p":
                out.append(Paragraph(_rl(block.text), body))
                out.append(Spacer(1, 4))
            elif block.kind == "h":
                out.append(Paragraph(_rl(block.text), h3))
            elif block.kind == "warn":
                out.append(
                    Paragraph(
                        "⚠ " + _rl(block.text) if ord("⚠") in _FONT_CMAP else "! " + _rl(block.text), warn
                    )
                )
            elif block.kind == "ul":
                items = [ListItem(Paragraph(_rl(item), body), leftIndent=12) for item in block.items]
                out.append(
                    ListFlowable(items, bulletType="bullet", start="•", leftIndent=12, bulletFontName="Vera")
                )
                out.append(Spacer(1, 4))
            elif block.kind == "dl":
                rows = [
                    [Paragraph(_rl(label), cell_head), Paragraph(_rl(value), small)]
                    for label, value in block.rows
                ]
                out.append(grid(rows, [width * 0.32, width * 0.68], header=False))
                out.append(Spacer(1, 6))
            elif block.kind == "table":
                # Columns as wide as their texts need, within bounds: names narrow, purposes wide.
                columns = list(zip(block.header, *block.rows, strict=False))
                weights = [min(max((len(c) for c in col), default=8), 70) + 10 for col in columns]
                total = sum(weights) or 1
                rows = [[Paragraph(_rl(h), cell_head) for h in block.header]]
                rows += [[Paragraph(_rl(c), small) for c in row] for row in block.rows]
                out.append(grid(rows, [width * w / total for w in weights], header=True))
                out.append(Spacer(1, 6))
        return out

    story: list = [Paragraph(_rl(document.title), title)]
    if version_line:
        story.append(Paragraph(_rl(version_line), meta))
    story += flow(document.intro)
    for number, section in enumerate(document.sections, start=1):
        head = Paragraph(_rl(f"{number}. {section.title}"), h2)
        rest = flow(section.blocks)
        # A heading never ends a page alone.
        story.append(KeepTogether([head, *rest[:1]]))
        story += rest[1:]

    page_label = document.labels.get("page", "Page")
    footer_text = _drawable(document.title)

    def decorate(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont("Vera", 7.5)
        canvas.setFillColor(muted)
        canvas.drawString(20 * mm, 12 * mm, footer_text[:110])
        canvas.drawRightString(A4[0] - 20 * mm, 12 * mm, f"{_drawable(page_label)} {doc.page}")
        canvas.restoreState()

    buffer = io.BytesIO()
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=20 * mm,
        title=_drawable(document.title),
        author=_drawable(author),
        lang=document.language,
        invariant=1,  # no creation time or random id inside: the same document gives the same bytes
    )
    pdf.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()
