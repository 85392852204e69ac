"""A picture of an office file's first page, drawn by LibreOffice.

Word, Excel, PowerPoint, OpenDocument and RTF files often carry no thumbnail of their own.
LibreOffice (Debian's ``libreoffice-*-nogui`` packages) converts such a file to PDF in a
temporary folder, and pdfium renders the PDF's first page exactly as for a shared PDF
(:func:`.preview.render_preview`).

Both steps run in the limited child of :func:`.sandbox.run_limited`. ``soffice`` inherits
the child's address-space, CPU-time and file-size limits: it starts and converts ordinary
documents in well under :data:`MEMORY_MB` of address space, and a file that needs more
crashes it, which is one more failure with a reason. The wall-clock limit is the parent's:
it kills the child's whole process group, ``soffice`` and the ``soffice.bin`` it starts
included (neither leaves the group).

Every conversion has a profile of its own (``-env:UserInstallation``) in its temporary
folder: LibreOffice lets one process at a time use a profile, so two conversions sharing
one would hand their work to each other or fail. The profile points LibreOffice at a proxy
that leads nowhere, because while converting it fetches the pictures a document links to
on the web, and a shared file must not make the server fetch addresses of its choosing.
"""

from __future__ import annotations

import os
import shutil
import subprocess  # nosec B404: soffice is started with a fixed argument list, no shell
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..vocab import N_
from .formats import formats_where
from .preview import render_preview
from .reasons import TOO_LARGE, TOO_SLOW
from .sandbox import run_limited

OFFICE_FORMATS = formats_where(lambda t: t.drawn_by_office)
# A first conversion starts LibreOffice cold (a few seconds); a long document's layout
# can take much longer, and nobody waits on this: it runs as a job after the share.
TIMEOUT_S = 60
MEMORY_MB = 1536

# Why there is no picture, worded to follow "No picture of this file's first page: ",
# stored in English (``files.preview_note``) and translated when the page shows it.
NOT_INSTALLED = N_("LibreOffice, which draws office files here, is not installed")
TURNED_OFF = N_("this site does not draw the pages of office files")
NOT_OPENED = N_("LibreOffice could not open it")
NOT_DRAWN = N_("its first page could not be drawn")
_FAILURE_WORDS = {
    TOO_SLOW: N_("drawing it took too long"),
    TOO_LARGE: N_("it is too large to draw"),
}

_TARGET = "exchange.files.office_preview:_draw_in_child"
_MADE, _NO_PDF = "made", "no-pdf"
# Port 9 (discard) on an address nothing listens on: every web fetch fails at once.
_NOWHERE = "0.0.0.0"  # nosec B104: a proxy address meant to lead nowhere, not a listener
_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
{items}
</oor:items>
"""
_INET_SETTINGS = {
    "ooInetProxyType": "2",  # manual
    "ooInetHTTPProxyName": _NOWHERE,
    "ooInetHTTPProxyPort": "9",
    "ooInetHTTPSProxyName": _NOWHERE,
    "ooInetHTTPSProxyPort": "9",
    "ooInetFTPProxyName": _NOWHERE,
    "ooInetFTPProxyPort": "9",
    "ooInetNoProxy": "",
}


@dataclass(frozen=True)
class Drawing:
    """What drawing a first page gave: ``made``, or the ``reason`` there is no picture."""

    made: bool
    reason: str = ""


def soffice() -> str | None:
    """Where LibreOffice's ``soffice`` is, or None when it is not installed."""
    return shutil.which("soffice")


def draw_first_page(
    path: Path,
    fmt: str,
    out_path: Path,
    *,
    width: int = 480,
    timeout_s: float = TIMEOUT_S,
    memory_mb: int = MEMORY_MB,
) -> Drawing:
    """Write a PNG of the first page of the office file at ``path`` to ``out_path``.

    Leaves nothing at ``out_path`` when it fails, and never raises: the reason comes back
    in words for the resource page.
    """
    program = soffice()
    if fmt not in OFFICE_FORMATS or width < 1:
        return Drawing(False, NOT_DRAWN)
    if program is None:
        return Drawing(False, NOT_INSTALLED)
    partial = out_path.with_name(out_path.name + ".part")
    # Made here, not in the child: a child killed at the time limit cleans up nothing.
    with tempfile.TemporaryDirectory(prefix="exchange-office-") as workdir:
        args = [fmt, str(Path(path).resolve()), str(partial.resolve()), str(width)]
        outcome = run_limited(
            _TARGET, [*args, program, workdir], timeout_s=timeout_s, memory_mb=memory_mb
        )
    if outcome.value == _MADE and partial.is_file():
        os.replace(partial, out_path)
        return Drawing(True)
    partial.unlink(missing_ok=True)
    if outcome.value == _NO_PDF:
        return Drawing(False, NOT_OPENED)
    return Drawing(False, _FAILURE_WORDS.get(outcome.failure, NOT_DRAWN))


def _draw_in_child(
    fmt: str, path: str, out_path: str, width: str, program: str, workdir: str
) -> str:
    pdf = _convert_to_pdf(Path(path), fmt, Path(program), Path(workdir))
    if pdf is None:
        return _NO_PDF
    return _MADE if render_preview(pdf, "pdf", Path(out_path), int(width)) else "no-page"


def _convert_to_pdf(path: Path, fmt: str, program: Path, workdir: Path) -> Path | None:
    """The PDF LibreOffice makes of the file, or None when it could not open it."""
    # LibreOffice picks its import filter partly by the name's extension; ours have none.
    source = workdir / f"document.{fmt}"
    shutil.copyfile(path, source)
    profile = workdir / "profile"
    _write_profile(profile)
    command = [str(program), f"-env:UserInstallation={profile.as_uri()}", "--headless"]
    command += ["--norestore", "--convert-to", "pdf", "--outdir", str(workdir / "out")]
    subprocess.run(  # nosec B603: a fixed argument list, no shell
        [*command, str(source)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        cwd=workdir,
        env=_environment(workdir),
        check=False,
    )
    pdf = workdir / "out" / "document.pdf"
    return pdf if pdf.is_file() else None


def _write_profile(profile: Path) -> None:
    settings = "\n".join(
        f'<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="{name}" '
        f'oor:op="fuse"><value>{value}</value></prop></item>'
        for name, value in _INET_SETTINGS.items()
    )
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(
        _PROFILE.format(items=settings), encoding="utf-8"
    )


def _environment(workdir: Path) -> dict[str, str]:
    """A small environment: no proxy exceptions, a home of its own, the system's PATH."""
    proxy = f"http://{_NOWHERE}:9"
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "LANG": "C.UTF-8",
        "http_proxy": proxy,
        "https_proxy": proxy,
        "no_proxy": "",
    }
