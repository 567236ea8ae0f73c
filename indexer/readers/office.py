"""Word 97-2003 (.doc) and WPS Office (.wps) files, converted to .docx by LibreOffice.

Why LibreOffice: it reads what offices actually keep under these names — Word binary files,
WPS Writer files (the same OLE2 Word format), and RTF or HTML saved with a .doc name — and
its .docx keeps paragraphs, bold runs and headings, so the bulletin parser sees exactly what
it sees in a .docx. antiword/catdoc were measured too: faster, but they wrap lines, drop bold
(the parser's title marker) and read neither .wps from newer WPS versions nor RTF.

Each conversion runs headless in its own temporary profile (-env:UserInstallation), so
conversions in parallel never share LibreOffice's profile lock, and under a timeout. A
password is found before LibreOffice is started (it would otherwise wait for one).
"""
from __future__ import annotations

import io
import shutil
import tempfile
from pathlib import Path

from ..document import Document, SourceError
from . import require_tool, run_tool, settings

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# FibBase flags (MS-DOC 2.5.2): fEncrypted, fObfuscated (a password either way).
FIB_FLAGS_OFFSET = 10
FIB_ENCRYPTED = 0x0100
FIB_OBFUSCATED = 0x8000
# What a file named .doc/.wps may really be, by its first bytes, and the name LibreOffice is given.
_KINDS = ((OLE_MAGIC, ".doc"), (b"{\\rtf", ".rtf"), (b"PK\x03\x04", ".docx"))
_HTML_STARTS = (b"<html", b"<!doctype", b"<?xml", b"mime-version")


def read_word97(path: str, data: bytes) -> Document:
    suffix = _sniff(data, Path(path).suffix.lower())
    if suffix == ".html":  # a web page saved with a Word name
        from .webpage import read_html

        return read_html(path, data)
    if suffix == ".docx":  # a .docx saved under the old name: read it as one
        from ..sources import read_docx_bytes

        return read_docx_bytes(path, data)
    if suffix == ".doc":
        _check_word_binary(data, Path(path).suffix.lower())
    docx = convert_to_docx(data, suffix)
    from ..sources import read_docx_bytes

    document = read_docx_bytes(path, docx)
    document.encoding = f"{Path(path).suffix.lower().lstrip('.')}（LibreOffice）"
    return document


def _sniff(data: bytes, name_suffix: str) -> str:
    head = data[:64].lstrip()
    for magic, suffix in _KINDS:
        if head.startswith(magic):
            return suffix
    if head.lower().startswith(_HTML_STARTS):
        return ".html"
    raise SourceError(f"不是有效的 {name_suffix} 文件（既非 Word/WPS 文档，也非 RTF 或网页）")


def _check_word_binary(data: bytes, name_suffix: str) -> None:
    """An OLE2 file: a Word/WPS document, or an encrypted Office file, or something else."""
    import olefile

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            if ole.exists("EncryptionInfo") or ole.exists("EncryptedPackage"):
                raise SourceError("文件设有密码，无法读取；请去掉密码后再导入")
            if not ole.exists("WordDocument"):
                hint = "（可能是早期 WPS 格式，请用 WPS 另存为 .docx）" if name_suffix == ".wps" else ""
                raise SourceError(f"不是 Word 97-2003 格式的文档{hint}")
            fib = ole.openstream("WordDocument").read(FIB_FLAGS_OFFSET + 2)
    except SourceError:
        raise
    except Exception as exc:  # olefile raises OSError and its own errors on damaged containers
        raise SourceError(f"{name_suffix} 文件已损坏（{type(exc).__name__}）") from exc
    if len(fib) < FIB_FLAGS_OFFSET + 2:
        raise SourceError(f"{name_suffix} 文件已损坏（文档头不完整）")
    flags = int.from_bytes(fib[FIB_FLAGS_OFFSET : FIB_FLAGS_OFFSET + 2], "little")
    if flags & (FIB_ENCRYPTED | FIB_OBFUSCATED):
        raise SourceError("文件设有密码，无法读取；请去掉密码后再导入")


def convert_to_docx(data: bytes, suffix: str) -> bytes:
    """LibreOffice headless, in a profile of its own, under the configured timeout."""
    soffice = require_tool("soffice", "libreoffice-writer-nogui")
    work = Path(tempfile.mkdtemp(prefix="bulletin-lo-"))
    try:
        source = work / f"in{suffix}"
        source.write_bytes(data)
        timeout = settings().libreoffice_timeout_seconds
        status, _out, err = run_tool(
            [soffice, f"-env:UserInstallation={(work / 'profile').as_uri()}", "--headless", "--norestore",
             "--nologo", "--nodefault", "--nolockcheck", "--convert-to", "docx", "--outdir", str(work / "out"),
             str(source)],
            timeout, "LibreOffice 转换",
        )
        target = work / "out" / "in.docx"
        if status != 0 or not target.exists():
            detail = err.decode("utf-8", "replace").strip().splitlines()
            reason = next((line for line in reversed(detail) if "javaldx" not in line), "")
            raise SourceError(f"LibreOffice 无法转换此文件，可能已损坏{('（' + reason[:120] + '）') if reason else ''}")
        return target.read_bytes()
    finally:
        shutil.rmtree(work, ignore_errors=True)
