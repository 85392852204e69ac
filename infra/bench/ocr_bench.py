"""OCR benchmark: scanned pages read per minute on one core.

Pages are made from known text (``tests/fixtures/scans.py``: a worksheet's lines in
11-point type, clean at 300 dpi and noisy at 200 dpi) and read exactly as a share reads
them: ``exchange.files.extract.extract`` with scans read in English, French and Spanish,
in the limited child process, Tesseract on one thread. Pages are read one after another,
and the rate per core is counted in CPU time (the child's and Tesseract's), which a busy,
shared machine does not inflate; the rate by the clock and the median time per page are
reported beside it, with the word recall of each kind of page.

    .venv/bin/python infra/bench/ocr_bench.py [--pages 6] [--full-page]

``--full-page`` reads whole A4 pages of dense text instead of half pages. Prints the
figures and writes ``results/ocr-<date>.md``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from exchange.files.extract import extract  # noqa: E402
from exchange.files.ocr import ScanReading  # noqa: E402
from tests.fixtures.scans import (  # noqa: E402
    NOISY_DPI,
    NOISY_WORKSHEET,
    WORKSHEET,
    image_only_pdf,
    page_picture,
    word_recall,
)

A4 = (2480, 3508)


def pages(count: int, full_page: bool) -> list[tuple[str, bytes, str]]:
    """(kind, image-only PDF bytes, expected text), clean and noisy in turn."""
    size = A4 if full_page else None
    made = []
    for number in range(count):
        noisy = number % 2 == 1
        text = NOISY_WORKSHEET if noisy else WORKSHEET
        if full_page:
            text = "\n".join([text] * 4)
        picture = page_picture(text, noisy=noisy, **({"size": size} if size else {}))
        pdf = image_only_pdf(picture, dpi=NOISY_DPI if noisy else 300)
        made.append(("noisy" if noisy else "clean", pdf, text))
    return made


def run(count: int, full_page: bool) -> dict:
    reading = ScanReading()
    times, recalls = [], {"clean": [], "noisy": []}
    cpu_before = _children_cpu_s()
    with tempfile.TemporaryDirectory() as work:
        for index, (kind, pdf, expected) in enumerate(pages(count, full_page)):
            path = Path(work) / f"page-{index}.pdf"
            path.write_bytes(pdf)
            started = time.perf_counter()
            result = extract(path, "pdf", scans=reading, timeout_s=20)
            times.append(time.perf_counter() - started)
            recalls[kind].append(word_recall(expected, result.text))
    cpu = _children_cpu_s() - cpu_before
    return {
        "pages": count,
        "page": "A4, dense" if full_page else "half A4, a worksheet's lines",
        "median_s": statistics.median(times),
        "pages_per_minute_wall": 60 * count / sum(times),
        # CPU time of the children and Tesseract: what a core fully given to OCR would do.
        "pages_per_minute_per_core": 60 * count / cpu,
        "recall_clean": statistics.mean(recalls["clean"]) if recalls["clean"] else None,
        "recall_noisy": statistics.mean(recalls["noisy"]) if recalls["noisy"] else None,
        "load": os.getloadavg()[0],
    }


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def report(figures: dict) -> str:
    return "\n".join(
        [
            f"# OCR pages per minute ({datetime.now(UTC):%Y-%m-%d})",
            "",
            f"- pages: {figures['pages']} ({figures['page']}), eng+fra+spa, one thread",
            f"- median time per page (child start, drawing, reading): {figures['median_s']:.2f} s",
            f"- pages per minute per core (CPU time of the child and Tesseract): "
            f"{figures['pages_per_minute_per_core']:.1f}",
            f"- pages per minute by the clock, one page at a time on this shared machine: "
            f"{figures['pages_per_minute_wall']:.1f}",
            f"- word recall: clean {figures['recall_clean']:.3f}, "
            f"noisy {figures['recall_noisy']:.3f}",
            f"- load average at the end (2 shared cores): {figures['load']:.1f}",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=6)
    parser.add_argument("--full-page", action="store_true")
    args = parser.parse_args()
    text = report(run(max(2, args.pages), args.full_page))
    print(text)
    results = Path(__file__).resolve().parent / "results"
    results.mkdir(exist_ok=True)
    suffix = "-full" if args.full_page else ""
    (results / f"ocr{suffix}-{datetime.now(UTC):%Y-%m-%d}.md").write_text(text, "utf-8")


if __name__ == "__main__":
    main()
