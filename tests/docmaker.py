"""Documents as municipalities have them, made reproducibly for the tests: a long two-column report
(reportlab), a scanned page (a page rendered to an image by PDFium, wrapped in a PDF by Pillow), a Word
file (python-docx) and a web page."""

from __future__ import annotations

from pathlib import Path

HEADER = "Social ekonomi i kommunen – rapport 2024"
LABELS = ["i", "ii", "1", "2", "3"]

# The two columns of page 3, drawn row by row (left line, right line, …) as some producers do, so that
# pypdf's own extraction interleaves them.
P3_LEFT = [
    "Kommunen köper varje år tjänster för",
    "stora belopp. Genom reserverad upphand-",
    "ling kan sociala företag lämna anbud på",
    "egna villkor.",
]
P3_RIGHT = [
    "Idéburna organisationer samverkar med",
    "kommunen genom partnerskap som bygger",
    "på ömsesidigt förtroende och gemensamma",
    "mål för invånarna.",
]
P4_LEFT = [
    "Arbetsintegrerande sociala företag ger",
    "människor långt från arbetsmarknaden",
]
P4_RIGHT = [
    "en väg till anställning och gemenskap",
    "i arbetslivet på lika villkor.",
]
P4_AFTER = [
    "Reserverade kontrakt får bara tilldelas leverantörer vars syfte är social integrering.",
]
P5 = [
    "Ett idéburet offentligt partnerskap är ett avtal mellan en kommun och en ideell aktör.",
    "Partnerskapet kräver ingen upphandling när verksamheten inte är ekonomisk.",
]
FOOTNOTE = "1 Lag (2016:1145) om offentlig upphandling."

SCANNED_SV = [
    "Sociala företag i Jämtland",
    "Kommunen stödjer arbetsintegrerande sociala företag",
    "med rådgivning, lokaler och reserverade kontrakt.",
    "Målet är att fler ska få ett arbete och en gemenskap.",
]
SCANNED_EN = [
    "Social enterprises in the region",
    "The municipality buys services from social enterprises",
    "through reserved contracts and public partnerships.",
]


def write_report_pdf(path: Path) -> Path:
    """Five A4 pages labelled i, ii, 1, 2, 3 with a running header and footer, an outline (Förord;
    1 Inledning; 2 Reserverade kontrakt > 2.1 Partnerskap), two columns on pages 3-4, a word hyphenated
    across a line end and a footnote on page 3."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    width, height = A4
    c = Canvas(str(path), pagesize=A4, invariant=1)
    c.setTitle("Social ekonomi i kommunen")
    c.addPageLabel(0, style="ROMAN_LOWER")  # i, ii
    c.addPageLabel(2, style="ARABIC", start=1)  # 1, 2, 3

    def furniture(label: str) -> None:
        c.setFont("Helvetica", 8)
        c.drawString(50, height - 40, HEADER)
        c.drawString(50, 30, f"Kommunrapport 2024 · sida {label}")

    def heading(text: str, y: float, key: str, level: int = 0) -> None:
        c.setFont("Helvetica-Bold", 14)
        c.drawString(50, y, text)
        c.bookmarkHorizontal(key, 0, y + 20)
        c.addOutlineEntry(text, key, level=level)

    def lines(rows: list[str], y: float, x: float = 50) -> float:
        c.setFont("Helvetica", 10)
        for row in rows:
            c.drawString(x, y, row)
            y -= 14
        return y

    def columns(left: list[str], right: list[str], y: float) -> float:
        c.setFont("Helvetica", 10)
        for a, b in zip(left, right, strict=True):
            c.drawString(50, y, a)
            c.drawString(310, y, b)
            y -= 14
        return y

    # page i
    furniture(LABELS[0])
    heading("Förord", height - 90, "forord")
    lines(["Rapporten beskriver hur kommuner arbetar med den sociala ekonomin.",
           "Den riktar sig till politiker och tjänstepersoner."], height - 120)
    c.showPage()
    # page ii
    furniture(LABELS[1])
    lines(["Innehållet bygger på intervjuer med tolv kommuner under året.",
           "Tack till alla som har medverkat i arbetet."], height - 90)
    c.showPage()
    # page 1: two columns, a footnote mark after "villkor." and the footnote in small type
    furniture(LABELS[2])
    heading("1 Inledning", height - 90, "inledning")
    columns(P3_LEFT, P3_RIGHT, height - 120)
    c.setFont("Helvetica", 6)
    c.drawString(50 + c.stringWidth(P3_LEFT[-1], "Helvetica", 10) + 1, height - 120 - 3 * 14 + 4, "1")
    c.setFont("Helvetica", 7)
    c.drawString(50, 60, FOOTNOTE)
    c.showPage()
    # page 2: the two-column text goes on, then a new section across the page
    furniture(LABELS[3])
    y = columns(P4_LEFT, P4_RIGHT, height - 90)
    heading("2 Reserverade kontrakt", y - 20, "kontrakt")
    lines(P4_AFTER, y - 50)
    c.showPage()
    # page 3
    furniture(LABELS[4])
    heading("2.1 Partnerskap", height - 90, "partnerskap", level=1)
    lines(P5, height - 120)
    c.showPage()
    c.save()
    return path


def write_scanned_pdf(path: Path, dpi: int = 200) -> Path:
    """One A4 page that is only an image: Swedish and English text rendered by PDFium, as a scanner would
    deliver it (no text layer)."""
    import io

    import pypdfium2 as pdfium
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, invariant=1)
    y = A4[1] - 80
    for i, row in enumerate(SCANNED_SV + [""] + SCANNED_EN):
        c.setFont("Helvetica-Bold" if i in (0, len(SCANNED_SV) + 1) else "Helvetica", 12)
        c.drawString(60, y, row)
        y -= 22
    c.showPage()
    c.save()
    pdf = pdfium.PdfDocument(buffer.getvalue())
    image = pdf[0].render(scale=dpi / 72, grayscale=True).to_pil()
    pdf.close()
    image.save(path, "PDF", resolution=dpi)
    return path


def write_docx(path: Path) -> Path:
    """A Word report: a title, two levels of headings, paragraphs, a bulleted list and a table."""
    import docx

    d = docx.Document()
    d.core_properties.title = "Handbok för social upphandling"
    d.core_properties.author = "Kommunförbundet"
    d.add_paragraph("Den här handboken vänder sig till upphandlare.")
    d.add_heading("Reserverade kontrakt", level=1)
    d.add_paragraph("En kommun får reservera kontrakt för sociala företag.")
    d.add_paragraph("Villkoren står i lagen om offentlig upphandling.")
    d.add_heading("Sociala hänsyn", level=2)
    d.add_paragraph("praktikplatser för unga", style="List Bullet")
    d.add_paragraph("anställning av långtidsarbetslösa", style="List Bullet")
    d.add_heading("Partnerskap", level=1)
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Form"
    table.cell(0, 1).text = "Kräver upphandling"
    table.cell(1, 0).text = "IOP"
    table.cell(1, 1).text = "Nej"
    d.save(str(path))
    return path


HTML = """<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><title>Social ekonomi – Region Jämtland</title>
<meta name="author" content="Region Jämtland Härjedalen"><style>p { color: red }</style>
<script>var tracking = "ska inte indexeras";</script></head>
<body>
<header><nav><a href="/">Start</a> <a href="/om">Om oss</a></nav></header>
<main>
<h1>Social ekonomi</h1>
<p>Regionen stödjer <b>sociala företag</b> och föreningar.</p>
<h2>Stöd till sociala företag</h2>
<p>Företagen kan få rådgivning
   och lokaler.</p>
<ul><li>Rådgivning i affärsutveckling</li><li><p>Nätverk för kooperativ</p></li></ul>
<h2>Kontakt</h2>
<p>Skriv till regionens kontaktcenter.</p>
</main>
<footer>© Region Jämtland Härjedalen · Cookies</footer>
</body></html>
"""


def write_html(path: Path) -> Path:
    path.write_text(HTML, encoding="utf-8")
    return path
