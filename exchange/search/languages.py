"""Which language a resource is written in, told from its text.

py3langid (a maintained fork of langid.py: its model ships inside the package, nothing is
downloaded, and the same text always gets the same answer) chooses among the site's
:data:`~exchange.vocab.LANGUAGES`. Its model takes about a second to load, so it is loaded
once per process, on the first share that needs it.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

from ..vocab import LANGUAGES
from .analysis import CJK_CLASS

SAMPLE_CHARS = 6000  # the start of the text is enough, and detection is linear in length
MIN_LETTERS = 20  # fewer letters than this say too little to tell
MIN_CONFIDENCE = 0.6  # below it the text is too mixed or short: "" (searched as English)
_LETTER = re.compile(r"[^\W\d_]")
_CJK = re.compile(f"[{CJK_CLASS}]")
CJK_WEIGHT = 3  # a Chinese or Japanese character says about as much as a short word
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def load_language_detector() -> None:
    """Load the model now: a job worker does so before it forks a child per job, so that
    each child has it rather than loading it again for every share it reads."""
    _identifier()


def detect_language(*texts: str) -> str:
    """The ISO 639-1 code of the language ``texts`` are written in, or "" when they are too
    short or too mixed to tell."""
    sample = "\n".join(t for t in texts if t)[:SAMPLE_CHARS]
    letters = len(_LETTER.findall(sample)) + (CJK_WEIGHT - 1) * len(_CJK.findall(sample))
    if letters < MIN_LETTERS:
        return ""
    with _lock:  # the identifier keeps working arrays between calls
        code, confidence = _identifier().classify(sample)
    return code if confidence >= MIN_CONFIDENCE and code in LANGUAGES else ""
