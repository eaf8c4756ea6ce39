"""PDF text extraction benchmark: pypdfium2 vs pypdf on the published letters.

    .venv/bin/python benchmarks/pdf_extract.py [PDF_DIR] [--repeat N] [--markdown]

Extracts every page's text of every PDF in PDF_DIR (default ../shared/real, the 64 published
letters, AES-encrypted with an empty user password) with each library, N times (default 3),
and reports the best run: files/s, pages/s, total seconds, how many files opened. Also times
`nlp.reading.read_pdf_text` (the production path: pypdfium2 plus newline/hyphen handling).
pypdf needs `cryptography` for AES (`pip install cryptography`); without it pypdf opens none.
"""
from __future__ import annotations

import argparse
import glob
import os
import platform
import sys
import time
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
DEFAULT_DIR = os.path.join(os.path.dirname(ROOT), "shared", "real")


def extract_pypdfium2(path: str) -> tuple[int, int]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(path)
    try:
        chars = 0
        n = len(doc)
        for i in range(n):
            page = doc[i]
            tp = page.get_textpage()
            chars += len(tp.get_text_range())
            tp.close()
            page.close()
        return n, chars
    finally:
        doc.close()


def extract_pypdf(path: str) -> tuple[int, int]:
    import pypdf

    reader = pypdf.PdfReader(path)
    if reader.is_encrypted:
        reader.decrypt("")
    chars = 0
    for page in reader.pages:
        chars += len(page.extract_text() or "")
    return len(reader.pages), chars


def extract_reading(path: str) -> tuple[int, int]:
    from nlp.reading import read_pdf_text

    text = read_pdf_text(path)
    return text.count("\f") + 1, len(text)


LIBS = {
    "pypdfium2": extract_pypdfium2,
    "pypdf": extract_pypdf,
    "nlp.reading.read_pdf_text": extract_reading,
}


def run_once(fn, files):
    opened = pages = chars = 0
    errors: dict[str, int] = {}
    t0 = time.perf_counter()
    for f in files:
        try:
            n, c = fn(f)
        except Exception as exc:  # noqa: BLE001 - a benchmark counts failures
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            continue
        opened += 1
        pages += n
        chars += c
    return time.perf_counter() - t0, opened, pages, chars, errors


def version(name: str) -> str:
    try:
        if name == "pypdfium2":
            import pypdfium2

            return f"{pypdfium2.version.PYPDFIUM_INFO} (pdfium {pypdfium2.version.PDFIUM_INFO.build})"
        if name == "pypdf":
            import pypdf

            return pypdf.__version__
    except Exception:  # noqa: BLE001
        pass
    return "-"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pdf_dir", nargs="?", default=DEFAULT_DIR)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args(argv)
    files = sorted(glob.glob(os.path.join(args.pdf_dir, "*.pdf")))
    if not files:
        print(f"no PDFs in {args.pdf_dir}", file=sys.stderr)
        return 1
    warnings.simplefilter("ignore")
    for fn in LIBS.values():  # warm imports so they are not timed
        try:
            fn(files[0])
        except Exception:  # noqa: BLE001
            pass
    rows = []
    for name, fn in LIBS.items():
        runs = [run_once(fn, files) for _ in range(args.repeat)]
        best = min(runs, key=lambda r: r[0])
        secs, opened, pages, chars, errors = best
        rows.append((name, secs, opened, pages, chars, errors))
    base = rows[0][1]
    print(f"# {len(files)} PDFs in {args.pdf_dir}; best of {args.repeat}; "
          f"{platform.python_implementation()} {platform.python_version()}, "
          f"{platform.machine()}, {os.cpu_count()} cores; "
          f"pypdfium2 {version('pypdfium2')}, pypdf {version('pypdf')}")
    header = ("library", "opened", "pages", "total s", "files/s", "pages/s", "chars", "vs pypdfium2", "errors")
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
    else:
        print("  ".join(f"{h:>14}" for h in header))
    for name, secs, opened, pages, chars, errors in rows:
        cells = (
            name, f"{opened}/{len(files)}", str(pages), f"{secs:.3f}",
            f"{opened / secs:.1f}", f"{pages / secs:.1f}", str(chars),
            f"{secs / base:.1f}x", ", ".join(f"{k}: {v}" for k, v in errors.items()) or "-",
        )
        if args.markdown:
            print("| " + " | ".join(cells) + " |")
        else:
            print("  ".join(f"{c:>14}" for c in cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
