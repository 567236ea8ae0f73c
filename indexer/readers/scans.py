"""PDFs (text layer, with OCR for pages that have none) and images of bulletin pages.

A PDF is read page by page: pages with a text layer give it (pypdf, content-stream order);
pages without one — scans — are rendered (pypdfium2) and recognised (ocr.py). So a PDF of
some scanned and some typed pages gets OCR only where it needs it. Images (.png/.jpg/.tif,
multi-page TIFF too) are recognised whole.
"""
from __future__ import annotations

import io
import re

from ..document import Document, SourceError
from . import settings

_MULTISPACE = re.compile(r"[ \u00a0]{2,}")
# A page whose text layer has fewer characters than this is a scan (a stamp or a page number
# may sit in the text layer of a scanned page).
MIN_TEXT_LAYER_CHARS = 10


def read_pdf(path: str, data: bytes) -> Document:
    """Text layer in content-stream order (pypdf); the parser rejoins wrapped lines.

    pdfminer's layout analysis was tried first: it split lines that mix fonts and
    reordered the pieces, losing numbers' places in the sentence.
    """
    from pypdf import PdfReader  # lazy: only PDF ingestion needs it
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise SourceError("PDF 已加密（设有打开密码），无法读取；请去掉密码后再导入")
        pages = [page.extract_text() or "" for page in reader.pages]
    except SourceError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError) as exc:
        raise SourceError(f"PDF 文件已损坏（{type(exc).__name__}）") from exc
    scanned = [n for n, text in enumerate(pages) if len(re.sub(r"\s", "", text)) < MIN_TEXT_LAYER_CHARS]
    encoding = "pdf"
    if scanned:
        from .ocr import ocr_pages

        for n, text in zip(scanned, ocr_pages(_render(data, scanned), settings().ocr_dpi)):
            pages[n] = text
        encoding = "pdf+ocr" if len(scanned) < len(pages) else "pdf（OCR）"
    text = _MULTISPACE.sub(" ", "\n\n".join(pages))
    if not text.strip():
        raise SourceError("PDF 没有文本层，文字识别（OCR）也没有找到文字")
    return Document(path, text=text, encoding=encoding)


def _render(data: bytes, numbers: list[int]) -> list:
    """The pages as images at the OCR resolution."""
    import pypdfium2 as pdfium  # lazy: only scanned PDFs are rendered

    scale = settings().ocr_dpi / 72
    try:
        document = pdfium.PdfDocument(data)
        try:
            return [document[n].render(scale=scale, grayscale=True).to_pil() for n in numbers]
        finally:
            document.close()
    except pdfium.PdfiumError as exc:
        raise SourceError(f"PDF 页面无法渲染，文件可能已损坏（{exc}）") from exc


def read_image(path: str, data: bytes) -> Document:
    from PIL import Image, ImageSequence, UnidentifiedImageError

    from .ocr import ocr_pages

    try:
        with Image.open(io.BytesIO(data)) as image:
            frames = [frame.copy() for frame in ImageSequence.Iterator(image)]
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise SourceError(f"图片文件已损坏或格式不受支持（{type(exc).__name__}）") from exc
    text = "\n\n".join(ocr_pages(frames))
    if not text.strip():
        raise SourceError("图片中没有识别出文字")
    return Document(path, text=text, encoding="ocr")
