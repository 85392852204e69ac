"""Credit benchmark: what putting the credit on the page adds to a share.

Crediting happens once per file version, at share time (downloads serve the stored copy),
so the figure that matters is the time added to a share. For a 10-page PDF and a 20-page
Word document it times, in the same run:

* properties only: ``exchange.files.credit.properties.write_credited_copy`` (what every
  share did before);
* on the page: the same, then ``exchange.files.credit.page.write_page_credit`` on its result
  (what a share does now when the giver wants the credit on the page).

Figures are medians of several runs, reported as milliseconds and as a ratio to the
properties-only crediting, because the machine is shared and noisy. They are printed and
written to ``results/credit-<date>.md``. With ``--picture PATH`` the credited PDF's first
page is also rendered (pdftoppm) for the README.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from exchange.files.credit import (  # noqa: E402
    Credit,
    PageCredit,
    creator_text,
    credit_line,
    write_credited_copy,
    write_page_credit,
)

RESULTS = Path(__file__).resolve().parent / "results"
CREDIT = Credit(
    title="Values card sort",
    author="Dale Briers (Collaborative Career Conversations)",
    licence_label="CC BY 4.0",
    licence_url="https://creativecommons.org/licenses/by/4.0/",
)
PROMPTS = [
    "Which of these values would you keep if you could keep only five?",
    "Think of a time at work when you felt most like yourself. What was happening?",
    "Which value do you feel is missing from your current role, and how do you know?",
    "What would a good week look like if this value were fully met?",
]


def make_pdf(path: Path, pages: int) -> None:
    """A worksheet of ``pages`` pages with headings, prompts and ruled answer lines."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    drawing = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    for number in range(1, pages + 1):
        drawing.setFont("Helvetica-Bold", 16)
        drawing.drawString(56, height - 72, f"Values card sort — part {number}")
        y = height - 110
        for prompt in PROMPTS * 2:
            drawing.setFont("Helvetica", 11)
            drawing.drawString(56, y, prompt)
            for _ in range(2):
                y -= 18
                drawing.line(56, y, width - 56, y)
            y -= 26
        drawing.showPage()
    drawing.save()


def make_docx(path: Path, pages: int) -> None:
    """A Word worksheet of ``pages`` pages, each ended by a page break."""
    import docx

    document = docx.Document()
    for number in range(1, pages + 1):
        document.add_heading(f"Values card sort — part {number}", level=1)
        for prompt in PROMPTS * 2:
            document.add_paragraph(prompt)
            document.add_paragraph("_" * 70)
        if number < pages:
            document.add_page_break()
    document.save(path)


def page_text() -> PageCredit:
    return PageCredit(credit_line(CREDIT), creator_text(CREDIT), CREDIT.licence_url)


def properties_only(src: Path, fmt: str, workdir: Path) -> Path:
    dest = workdir / f"props.{fmt}"
    if not write_credited_copy(src, fmt, CREDIT, dest):
        raise SystemExit(f"the properties writer refused {src}")
    return dest


def on_the_page(src: Path, fmt: str, workdir: Path) -> Path:
    props = properties_only(src, fmt, workdir)
    dest = workdir / f"page.{fmt}"
    result = write_page_credit(props, fmt, page_text(), dest)
    if not result.on_page:
        raise SystemExit(f"no credit on the page of {src}: {result.reason}")
    return dest


def median_ms(step, src: Path, fmt: str, workdir: Path, runs: int) -> float:
    step(src, fmt, workdir)  # warm: fonts registered, modules imported
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        step(src, fmt, workdir)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(src: Path, fmt: str, workdir: Path, runs: int) -> dict:
    props = median_ms(properties_only, src, fmt, workdir, runs)
    page = median_ms(on_the_page, src, fmt, workdir, runs)
    return {"props_ms": props, "page_ms": page, "added_ms": page - props, "ratio": page / props}


def report(rows: dict[str, dict], runs: int) -> str:
    lines = [
        f"# Credit on the page — {datetime.now(UTC):%Y-%m-%d}",
        "",
        f"Medians of {runs} runs on one machine ({sys.platform}); a share credits each file once.",
        "",
        "| file | properties only | on the page (incl. properties) | added | ratio |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in rows.items():
        lines.append(
            f"| {name} | {row['props_ms']:.1f} ms | {row['page_ms']:.1f} ms | "
            f"{row['added_ms']:.1f} ms | {row['ratio']:.1f}× |"
        )
    return "\n".join(lines) + "\n"


def render_first_page(pdf: Path, picture: Path) -> None:
    """The whole page, and beside it (``-detail``) its bottom edge large enough to read."""
    picture.parent.mkdir(parents=True, exist_ok=True)
    stem = picture.with_suffix("")
    whole = ["-r", "60"]
    detail = ["-r", "150", "-x", "0", "-y", "1590", "-W", "1240", "-H", "165"]
    for options, name in ((whole, stem), (detail, Path(f"{stem}-detail"))):
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                *options,
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(pdf),
                str(name),
            ],
            check=True,
            timeout=60,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--picture", type=Path, help="render the credited PDF's first page here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="credit-bench-") as folder:
        workdir = Path(folder)
        pdf, word = workdir / "worksheet.pdf", workdir / "worksheet.docx"
        make_pdf(pdf, 10)
        make_docx(word, 20)
        rows = {
            "10-page PDF": measure(pdf, "pdf", workdir, args.runs),
            "20-page docx": measure(word, "docx", workdir, args.runs),
        }
        if args.picture:
            render_first_page(on_the_page(pdf, "pdf", workdir), args.picture)
    text = report(rows, args.runs)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"credit-{datetime.now(UTC):%Y-%m-%d}.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
