"""Reading scanned pages with Tesseract: a small wrapper around its command line.

Many counsellors' best worksheets exist only as scans or phone photos of a handout. The
readers (:mod:`.readers.image`, and :mod:`.readers.pdf` for pages without a text layer)
hand a page picture to :func:`read_page`, which runs ``tesseract`` on it. It runs only
inside the limited child process (:mod:`.sandbox`), so Tesseract inherits the child's
memory, CPU-time and file-size limits, and is killed with the child's process group.

The command line is called directly rather than through pytesseract (itself a thin wrapper
around the same command line) or OCRmyPDF (PDFs only, with Ghostscript and a worker pool
of its own): the argv is fixed, each page gets its own time limit here, and Tesseract's own
``pdf`` output gives the invisible text layer (:mod:`.text_layer`) with no other package.

Tesseract is given a PNG this code wrote (a greyscale picture Pillow or pdfium decoded
within the pixel limit), never the uploaded bytes, so its own image decoders see nothing
a stranger made.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess  # nosec B404: fixed argv, never a shell
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# Resolution pages are drawn at for reading: Tesseract reads body text best at 300 dpi.
DPI = 300
DEFAULT_LANGUAGES = "eng+fra+spa"
# One thread per page: pages are read one after another in a child limited to one core's
# worth of CPU time, and the machine is shared with the web workers.
_TESSERACT_ENV = {"OMP_THREAD_LIMIT": "1", "PATH": os.defpath, "LC_ALL": "C"}


@dataclass(frozen=True)
class ScanReading:
    """How scans are read: which languages, how long a page may take, how many pages.

    ``layer_dir``, when set, receives each read PDF page's text as an invisible text-only
    PDF page (``page-<index>.pdf``) for :mod:`.text_layer`.
    """

    languages: str = DEFAULT_LANGUAGES
    seconds_per_page: float = 30
    page_limit: int = 20
    layer_dir: str = ""

    def as_argument(self) -> str:
        """One string for the child's argv."""
        return json.dumps(asdict(self))

    @classmethod
    def from_argument(cls, argument: str) -> ScanReading | None:
        return cls(**json.loads(argument)) if argument else None


class PageNotRead(Exception):
    """Tesseract failed or ran out of time on one page; the other pages are still read."""


def tesseract_path() -> str | None:
    """Where ``tesseract`` is, or None when it is not installed."""
    return shutil.which("tesseract")


def read_page(picture: Any, reading: ScanReading, layer_path: Path | None = None) -> str:
    """The text Tesseract reads on one page picture (a PIL image), within the page's time.

    With ``layer_path``, the page's text is also written there as a one-page, text-only PDF
    whose page is the picture's size at :data:`DPI`. Raises :class:`PageNotRead`.
    """
    program = tesseract_path()
    if program is None:
        raise PageNotRead("tesseract is not installed")
    with tempfile.TemporaryDirectory(prefix="exchange-ocr-") as work:
        page, out = Path(work) / "page.png", Path(work) / "out"
        picture.save(page, format="PNG", dpi=(DPI, DPI))
        argv = [program, str(page), str(out), "-l", reading.languages, "--dpi", str(DPI)]
        argv += ["-c", "textonly_pdf=1", "txt", "pdf"] if layer_path else ["txt"]
        _run(argv, reading.seconds_per_page)
        text = out.with_suffix(".txt").read_text("utf-8", "replace")
        if layer_path is not None and out.with_suffix(".pdf").is_file():
            shutil.move(out.with_suffix(".pdf"), layer_path)
    return text


def _run(argv: list[str], seconds: float) -> None:
    try:
        done = subprocess.run(  # nosec B603: our own argv, no shell
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=_TESSERACT_ENV,
            timeout=seconds,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise PageNotRead(f"reading the page took more than {seconds:g} s") from exc
    if done.returncode != 0:
        sys.stderr.write(done.stderr.decode("utf-8", "replace")[-2000:])
        raise PageNotRead(f"tesseract exited with {done.returncode}")


_WORD = re.compile(r"[^\W\d_]{3,}")


def looks_like_text(text: str) -> bool:
    """At least two words of three letters or more: a photo of a face or a chart can make
    Tesseract "read" a few stray marks, which are no text to search."""
    return len(_WORD.findall(text)) >= 2
