"""Admin endpoints (off without a configured key): background re-ingest and document upload."""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, UploadFile

from assistant.api.codes import DOCUMENT_EXISTS, REINGEST_RUNNING, UNSUPPORTED_FILE
from assistant.api.deps import AdminDep, CodedHTTPException, SettingsDep
from assistant.api.schemas import ErrorOut, ReingestOut, UploadOut
from ingest.sources import NOT_DOCUMENTS

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[AdminDep],
                   responses={401: {"model": ErrorOut}, 404: {"model": ErrorOut}, 429: {"model": ErrorOut}})
ALLOWED = {".pdf", ".txt", ".md", ".docx", ".html", ".htm"}


@router.post("/reingest", response_model=ReingestOut, status_code=202,
             responses={409: {"model": ErrorOut}, 422: {"model": ErrorOut}},
             summary="Start a re-ingest of the corpus in the background")
def start_reingest(request: Request, allow_removal: bool = False) -> dict:
    """``allow_removal=true``: let the run remove all indexed documents, more than the allowed share, or run
    when the corpus folder is missing (refused by default, as `sesam ingest --allow-removal`)."""
    from ingest.pipeline import ingest_running  # imported when used, as the job imports the pipeline

    job = request.app.state.reingest
    # A `sesam ingest` started outside the service holds the index's lock: the job would start and fail at once
    # with no word of why (the server's own job holds the lock too, and is answered by the check below).
    if job.state != "running" and ingest_running(job.settings.index_dir):
        raise CodedHTTPException(409, "An ingest started outside this server (`sesam ingest`) is running on the "
                                      "index; re-ingest again when it has finished.", REINGEST_RUNNING)
    if not job.start(allow_removal=allow_removal):
        raise CodedHTTPException(409, "A re-ingest is already running; follow it with GET /v1/admin/reingest.",
                                 REINGEST_RUNNING)
    return job.status()


@router.get("/reingest", response_model=ReingestOut, responses={422: {"model": ErrorOut}},
            summary="State of the last re-ingest")
def reingest_status(request: Request) -> dict:
    return request.app.state.reingest.status()


def safe_name(name: str) -> str:
    """A plain file name: no directories, no leading dots or dashes, letters, digits, space, . _ - only;
    a long name is shortened before its suffix, so ``<300 characters>.pdf`` stays a PDF."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").split("/")[-1].replace("\x00", "")
    name = re.sub(r"[^\w .\-]", "_", name).strip(" .-")
    stem, suffix = os.path.splitext(name)
    if len(name) > 120 and len(suffix) <= 8:
        return stem[: 120 - len(suffix)].rstrip(" .-") + suffix
    return name[:120]


def _sniff(head: bytes, suffix: str) -> bool:
    if suffix == ".pdf":
        return head.lstrip()[:4] == b"%PDF"
    if suffix == ".docx":
        return head[:4] == b"PK\x03\x04"
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > len(head) - 4  # a multi-byte character cut at the end of the sample
    return True


@router.post("/documents", response_model=UploadOut, status_code=201,
             responses={409: {"model": ErrorOut}, 413: {"model": ErrorOut}, 415: {"model": ErrorOut},
                        422: {"model": ErrorOut}},
             summary="Upload a PDF, Word, HTML, TXT or MD file into the corpus (indexed by the next re-ingest)")
async def upload(file: UploadFile, settings: SettingsDep, replace: bool = False) -> dict:
    """``replace=true``: replace a corpus file of the same name. Without it such an upload is refused (409): it
    replaced the file silently, and names that differ only in characters made safe (``a&b.pdf``, ``a_b.pdf``)
    are one file."""
    name = safe_name(file.filename or "")
    suffix = Path(name).suffix.lower()
    if not name or suffix not in ALLOWED:
        raise CodedHTTPException(415, "Only .pdf, .docx, .html, .htm, .txt and .md files can be uploaded; "
                                      "convert the file to one of these formats.", UNSUPPORTED_FILE)
    if name.lower() in NOT_DOCUMENTS:
        raise HTTPException(422, detail=f"{name} is a reserved name that ingest does not index; rename the file.")
    corpus = settings.corpus_dir.resolve()
    target = (corpus / name).resolve()
    if target.parent != corpus:
        raise HTTPException(422, detail="The file name is not allowed.")
    limit = settings.max_upload_bytes
    corpus.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=corpus, prefix=".upload-")
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            head = b""
            while chunk := await file.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise HTTPException(413, detail=f"The file is larger than the limit of {limit} bytes.")
                if len(head) < 4096:
                    head += chunk[: 4096 - len(head)]
                out.write(chunk)
        if size == 0:
            raise HTTPException(422, detail="The file is empty.")
        if not _sniff(head, suffix):
            raise CodedHTTPException(415, f"The content is not a valid {suffix[1:].upper()} file.", UNSUPPORTED_FILE)
        # a corpus file copied from a Mac or a zip file holds the name decomposed ("a" and a ring): the same name
        target = next((p for p in corpus.iterdir() if unicodedata.normalize("NFC", p.name) == name), target)
        if target.is_symlink():
            raise HTTPException(422, detail="The file name is not allowed.")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # like any file the maintainers copy in (mkstemp makes it 0600)
        replaced = target.exists()
        if replace:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)  # never over a file: one stored between the check and here is refused too
            except FileExistsError:
                replaced = True
            if replaced:
                raise CodedHTTPException(409, f"The corpus already holds a file named {name}; send the upload "
                                              "with replace=true to replace it, or rename the file.", DOCUMENT_EXISTS)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    detail = "Replaced; start a re-ingest to index it." if replaced else "Stored; start a re-ingest to index it."
    return {"stored": name, "bytes": size, "replaced": replaced, "detail": detail}
