"""The zip given to a file that cannot carry its credit inside (old Office files,
pictures): the file exactly as shared, beside a ``credit.txt`` with the credit line, where
the resource is and its licence.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

from .line import Credit, description_text

CREDIT_TXT = "credit.txt"


def credit_txt(credit: Credit) -> str:
    """The note beside a file that cannot carry its credit: the credit line, where the
    resource is, and its licence. Windows line ends, so Notepad shows the lines apart."""
    return description_text(credit).replace("\n", "\r\n") + "\r\n"


def write_credit_bundle(src: Path, inner_name: str, credit: Credit, dest: Path) -> None:
    """A zip holding ``src``'s bytes as they are, named ``inner_name``, and ``credit.txt``.

    For formats that cannot be credited inside without risk (old Office files, pictures):
    the file itself is never touched. Built beside ``dest``, renamed into place complete.
    """
    dest = Path(dest)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=".bundle-", suffix=".part")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp_name, "w", zipfile.ZIP_DEFLATED) as bundle:
            bundle.write(src, arcname=inner_name)
            bundle.writestr(CREDIT_TXT, credit_txt(credit).encode("utf-8"))
        os.replace(tmp_name, dest)
    finally:
        Path(tmp_name).unlink(missing_ok=True)
