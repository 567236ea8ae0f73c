"""Reader speed and OCR accuracy on files made from the sample bulletins (data/sample).

    python -m bench.readers              # every reader; OCR with tesseract (clean and degraded scans)
    python -m bench.readers --rapidocr   # also rapidocr-onnxruntime (pip install -e '.[bench]'), slow

Per format: files (or pages) per second through the reader, and for OCR the share of
characters read right: 1 - edit distance / length, whitespace ignored, after the parser's
own punctuation clean-up, against the text printed on the page. "Degraded" pages are turned
0.4°, blurred, given grey noise and saved as JPEG at quality 55, like a photocopied scan.
Results go to stdout and bench/results/readers-<date>.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from indexer.sources import read_document
from indexer.textclean import normalize

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "data" / "sample").glob("*.txt"))
RESULTS = ROOT / "bench" / "results"
MAX = 50 * 1024 * 1024


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", normalize(text)).replace("*", "")


def accuracy(got: str, want: str) -> float:
    from rapidfuzz.distance import Levenshtein

    got, want = squeeze(got), squeeze(want)
    return 1 - Levenshtein.distance(got, want) / max(1, len(want))


def degrade(page, seed: int):
    import numpy as np
    from PIL import Image, ImageFilter

    rng = np.random.default_rng(seed)
    page = page.rotate(0.4, fillcolor=255, resample=Image.BICUBIC).filter(ImageFilter.GaussianBlur(0.7))
    noisy = np.asarray(page).astype(float) + rng.normal(0, 18, (page.height, page.width))
    buffer = io.BytesIO()
    Image.fromarray(np.clip(noisy, 0, 255).astype("uint8")).save(buffer, "JPEG", quality=55)
    return Image.open(io.BytesIO(buffer.getvalue()))


def timed_reads(paths: list[Path]) -> float:
    """Seconds to read all the files, one after another."""
    start = time.perf_counter()
    for path in paths:
        read_document(path, MAX)
    return time.perf_counter() - start


def bench_formats(work: Path) -> list[dict]:
    from tests.inputs import bulletin_html, libreoffice_save, write_docx, write_ofd

    rows = []
    texts = [p.read_text(encoding="utf-8") for p in SAMPLES]
    docx = [write_docx(t, work / (p.stem + ".docx")) for p, t in zip(SAMPLES, texts)]
    rows.append({"format": ".docx", "tool": "python-docx", "files": len(docx), "seconds": timed_reads(docx)})
    if shutil.which("soffice"):
        docs = libreoffice_save(docx, ".doc", work / "doc")
        rows.append({"format": ".doc / .wps", "tool": "LibreOffice 7.4 headless → .docx", "files": len(docs),
                     "seconds": timed_reads(docs)})
        if shutil.which("antiword"):
            start = time.perf_counter()
            for path in docs:
                subprocess.run(["antiword", "-w", "0", str(path)], capture_output=True, check=True)
            rows.append({"format": ".doc (compared)", "tool": "antiword (text only, no bold)", "files": len(docs),
                         "seconds": time.perf_counter() - start})
    ofds = [write_ofd(t, work / (p.stem + ".ofd")) for p, t in zip(SAMPLES, texts)]
    rows.append({"format": ".ofd", "tool": "lxml (GB/T 33190 XML)", "files": len(ofds), "seconds": timed_reads(ofds)})
    pages = []
    for p, t in zip(SAMPLES, texts):
        page = work / (p.stem + ".html")
        page.write_text(bulletin_html(t), encoding="utf-8")
        pages.append(page)
    rows.append({"format": ".html", "tool": "trafilatura + htmldate", "files": len(pages), "seconds": timed_reads(pages)})
    return rows


def bench_ocr(engine: str, degraded: bool) -> dict:
    from tests.inputs import printed_text, render_pages

    pages_done, seconds, scores = 0, 0.0, []
    recognise = _engine(engine)
    for number, path in enumerate(SAMPLES):
        text = path.read_text(encoding="utf-8")
        pages = render_pages(text)
        if degraded:
            pages = [degrade(p, number * 10 + n) for n, p in enumerate(pages)]
        start = time.perf_counter()
        got = recognise(pages)
        seconds += time.perf_counter() - start
        pages_done += len(pages)
        scores.append((accuracy(got, printed_text(text)), len(squeeze(printed_text(text)))))
    weighted = sum(a * n for a, n in scores) / sum(n for _, n in scores)
    return {"engine": engine, "pages": "degraded" if degraded else "clean", "count": pages_done,
            "pages_per_second": pages_done / seconds, "char_accuracy": weighted,
            "worst_bulletin": min(a for a, _ in scores)}


def _engine(name: str):
    if name == "tesseract":
        from indexer.readers.ocr import ocr_pages

        return lambda pages: "\n\n".join(ocr_pages(pages, 200))
    import numpy as np
    from rapidocr_onnxruntime import RapidOCR

    ocr = RapidOCR()

    def rapid(pages):
        lines = []
        for page in pages:
            result, _ = ocr(np.array(page.convert("RGB")), use_cls=False)
            lines += [r[1] for r in result or []]
        return "\n".join(lines)

    return rapid


def bench_scanned_pdf(work: Path) -> dict:
    from tests.inputs import render_pages, write_scanned_pdf

    pdfs, pages = [], 0
    for path in SAMPLES:
        rendered = render_pages(path.read_text(encoding="utf-8"))
        pages += len(rendered)
        pdfs.append(write_scanned_pdf(rendered, work / (path.stem + ".pdf")))
    seconds = timed_reads(pdfs)
    return {"format": ".pdf (scanned)", "tool": "pypdfium2 200 dpi + tesseract", "files": len(pdfs), "pages": pages,
            "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rapidocr", action="store_true", help="also measure rapidocr-onnxruntime")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-readers-") as tmp:
        work = Path(tmp)
        formats = bench_formats(work)
        formats.append(bench_scanned_pdf(work))
    engines = ["tesseract"] + (["rapidocr"] if args.rapidocr else [])
    ocr = [bench_ocr(engine, degraded) for engine in engines for degraded in (False, True)]
    lines = [f"# Readers, {dt.date.today().isoformat()}", "", "| format | library / tool | files | pages | files/s | pages/s |",
             "|---|---|---|---|---|---|"]
    for row in formats:
        pages = row.get("pages")
        lines.append(f"| {row['format']} | {row['tool']} | {row['files']} | {pages or '-'} | "
                     f"{row['files'] / row['seconds']:.2f} | {(pages / row['seconds']) if pages else 0:.2f} |")
    lines += ["", "| OCR engine | pages | count | pages/s | character accuracy | worst bulletin |", "|---|---|---|---|---|---|"]
    for row in ocr:
        lines.append(f"| {row['engine']} | {row['pages']} | {row['count']} | {row['pages_per_second']:.2f} | "
                     f"{row['char_accuracy']:.4f} | {row['worst_bulletin']:.4f} |")
    report = "\n".join(lines)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.date.today().isoformat()
    (RESULTS / f"readers-{stamp}.md").write_text(report + "\n", encoding="utf-8")
    (RESULTS / f"readers-{stamp}.json").write_text(json.dumps({"formats": formats, "ocr": ocr}, ensure_ascii=False, indent=1),
                                                   encoding="utf-8")


if __name__ == "__main__":
    main()
