"""Builds real PDF files for tests: text pages, encrypted, image-only, truncated, decompression bombs."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path


def _escape(line: str) -> bytes:
    raw = line.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _content(lines: Sequence[str]) -> bytes:
    ops = [b"BT /F1 11 Tf 14 TL 50 780 Td"]
    for line in lines:
        ops.append(b"(" + _escape(line) + b") Tj T*")
    ops.append(b"ET")
    return b"\n".join(ops)


def _assemble(objects: list[bytes]) -> bytes:
    """objects[i] is the body of object i+1; returns a complete PDF with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 3 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _stream(data: bytes, extra: bytes = b"", compress: bool = False) -> bytes:
    if compress:
        data = zlib.compress(data)
        extra += b" /Filter /FlateDecode"
    return b"<< /Length " + str(len(data)).encode() + extra + b" >>\nstream\n" + data + b"\nendstream"


def pdf_bytes(pages: Sequence[Sequence[str] | None], title: str = "", image_pages: Sequence[int] = (),
              raw_streams: dict[int, bytes] | None = None) -> bytes:
    """A PDF with one page per entry: a list of text lines, or None for an empty page.

    ``image_pages`` (0-based) get an image instead of text; ``raw_streams`` maps a page index to a
    ready-made content stream object body (used for decompression bombs).
    """
    n = len(pages)
    # objects: 1 catalog, 2 pages, 3 info, 4 font, 5 image, then page i: 6+2i, content i: 7+2i
    kids = " ".join(f"{6 + 2 * i} 0 R" for i in range(n))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode(),
        b"<< /Title (" + _escape(title) + b") /Producer (sesam tests) >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        _stream(bytes([128] * 64), b" /Type /XObject /Subtype /Image /Width 8 /Height 8 "
                                   b"/ColorSpace /DeviceGray /BitsPerComponent 8"),
    ]
    for i, lines in enumerate(pages):
        resources = "/Font << /F1 4 0 R >>" + (" /XObject << /Im1 5 0 R >>" if i in image_pages else "")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << {resources} >> "
                       f"/Contents {7 + 2 * i} 0 R >>".encode())
        if raw_streams and i in raw_streams:
            objects.append(raw_streams[i])
        elif i in image_pages:
            objects.append(_stream(b"q 400 0 0 400 100 300 cm /Im1 Do Q"))
        else:
            objects.append(_stream(_content(lines or [])))
    return _assemble(objects)


def write_pdf(path: Path, pages: Sequence[Sequence[str] | None], title: str = "") -> Path:
    path.write_bytes(pdf_bytes(pages, title))
    return path


def write_image_only_pdf(path: Path, n_pages: int = 2) -> Path:
    path.write_bytes(pdf_bytes([None] * n_pages, image_pages=range(n_pages)))
    return path


def write_encrypted_pdf(path: Path, pages: Sequence[Sequence[str]], password: str = "secret") -> Path:
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(pdf_bytes(pages))).pages:
        writer.add_page(page)
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="AES-128")
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def write_truncated_pdf(path: Path, pages: Sequence[Sequence[str]], keep: float = 0.35) -> Path:
    data = pdf_bytes(pages)
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def write_bomb_pdf(path: Path, inflated_mb: int) -> Path:
    """A one-page PDF whose content stream inflates to ``inflated_mb`` MB of spaces (compressed: ~1 KB per MB)."""
    comp = zlib.compressobj(9)
    block = b" " * (1 << 20)
    data = b"".join(comp.compress(block) for _ in range(inflated_mb)) + comp.flush()
    stream = b"<< /Length " + str(len(data)).encode() + b" /Filter /FlateDecode >>\nstream\n" + data + b"\nendstream"
    path.write_bytes(pdf_bytes([["x"]], raw_streams={0: stream}))
    return path


def write_deep_page_tree_pdf(path: Path, depth: int) -> Path:
    """A one-page PDF whose page tree is a chain of ``depth`` nested /Pages nodes."""
    objects = [b"<< /Type /Catalog /Pages 4 0 R >>", b"<< >>", b"<< /Title (deep) >>"]
    for i in range(depth):
        number = 4 + i
        parent = f"/Parent {number - 1} 0 R " if i else ""
        objects.append(f"<< /Type /Pages {parent}/Kids [{number + 1} 0 R] /Count 1 >>".encode())
    page = 4 + depth
    objects.append(f"<< /Type /Page /Parent {page - 1} 0 R /MediaBox [0 0 595 842] /Contents {page + 1} 0 R >>"
                   .encode())
    objects.append(_stream(_content(["Sidan längst ned i trädet."])))
    path.write_bytes(_assemble(objects))
    return path
