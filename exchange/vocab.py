"""The words the exchange is built around: kinds, audiences, licences, standard topics.

Stored values are short stable codes; labels are what people read. Forms, search facets
and the credit line all take their wording from here so it is said the same way everywhere.
"""

from __future__ import annotations


def N_(text: str) -> str:  # noqa: N802 (gettext's name for it)
    """Marks a label for the catalogues and leaves it as it is: the stored English label is
    what files and the index keep; pages translate it when they show it (``i18n.label``)."""
    return text


KINDS = {
    "worksheet": N_("Worksheet"),
    "template": N_("Template"),
    "spreadsheet": N_("Spreadsheet"),
    "quiz": N_("Quiz"),
    "self-assessment": N_("Self-assessment"),
    "exercise": N_("Exercise"),
    "guide": N_("Guide"),
    "presentation": N_("Presentation"),
    "other": N_("Other"),
}

AUDIENCES = {
    "any": N_("Any client"),
    "youth": N_("Young people and students"),
    "adults": N_("Adults"),
    "job-seekers": N_("Job seekers"),
    "career-changers": N_("Career changers"),
    "returners": N_("People returning to work"),
    "newcomers": N_("Newcomers and immigrants"),
    "older-workers": N_("Older workers"),
    "employees": N_("Employees and teams"),
    "practitioners": N_("Counsellors and practitioners"),
}

LICENCES = {
    "cc-by-4.0": "CC BY 4.0",
    "cc-by-nc-4.0": "CC BY-NC 4.0",
    "cc-by-nc-sa-4.0": "CC BY-NC-SA 4.0",
    "free-with-credit": N_("Free to use with credit"),
    "exchange-only": N_("Shared within the exchange only"),
}

LICENCE_URLS = {
    "cc-by-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "cc-by-nc-4.0": "https://creativecommons.org/licenses/by-nc/4.0/",
    "cc-by-nc-sa-4.0": "https://creativecommons.org/licenses/by-nc-sa/4.0/",
}

ACCESS = {
    "everyone": N_("Open to everyone signed in"),
    "sharers": N_("For members who share"),
}

# Who can find a resource: its page, synopsis, credit and search results. Downloading always
# needs an account (see ACCESS); "members" also hides the resource from visitors entirely.
VISIBILITY = {
    "public": N_("Anyone on the web"),
    "members": N_("Signed-in members only"),
}

# The languages a resource may be written in (ISO 639-1), named in English (as the API
# says them) and translated where a page shows them (the select, the facet, "in French").
# Search stems the first fourteen with rules of their own, and folds accents and cuts
# Chinese, Japanese and Korean into character pairs for all; the detector chooses only
# among these.
LANGUAGES = {
    "en": N_("English"),
    "fr": N_("French"),
    "es": N_("Spanish"),
    "de": N_("German"),
    "pt": N_("Portuguese"),
    "it": N_("Italian"),
    "nl": N_("Dutch"),
    "sv": N_("Swedish"),
    "no": N_("Norwegian"),
    "da": N_("Danish"),
    "fi": N_("Finnish"),
    "ru": N_("Russian"),
    "hu": N_("Hungarian"),
    "ro": N_("Romanian"),
    "ar": N_("Arabic"),
    "zh": N_("Chinese"),
    "cs": N_("Czech"),
    "el": N_("Greek"),
    "he": N_("Hebrew"),
    "hi": N_("Hindi"),
    "ja": N_("Japanese"),
    "ko": N_("Korean"),
    "pl": N_("Polish"),
    "sk": N_("Slovak"),
    "tr": N_("Turkish"),
    "uk": N_("Ukrainian"),
    "vi": N_("Vietnamese"),
}

# Where a named giver's credit goes in the files people download.
CREDIT_ON_PAGE = "page"
CREDIT_IN_PROPERTIES = "properties"
CREDIT_PLACEMENTS = {
    CREDIT_ON_PAGE: N_("On every printed page, and in the file’s details"),
    CREDIT_IN_PROPERTIES: N_("Only in the file’s details and its name"),
}

STANDARD_TOPICS = (
    "career exploration",
    "self-assessment",
    "skills",
    "strengths",
    "resume writing",
    "cover letters",
    "interview skills",
    "job search",
    "networking",
    "self-esteem",
    "employment barriers",
    "workplace conflict",
    "financial wellbeing",
    "bereavement",
    "education and training",
)

MAX_TAGS = 12
MAX_TAG_LENGTH = 40


def normalise_tag(raw: str) -> str:
    """One spelling per tag: lower case, single spaces, no stray punctuation at the ends."""
    return " ".join(raw.strip().strip(".;#").lower().split())


def parse_tags(text: str) -> list[str]:
    """Comma-separated tags in the order given, without blanks or repeats."""
    seen: dict[str, None] = {}
    for part in text.replace(";", ",").split(","):
        tag = normalise_tag(part)
        if tag:
            seen.setdefault(tag, None)
    return list(seen)


# Tesseract's names for the languages whose scans it may read (its data installed per
# language: EXCHANGE_OCR_LANGUAGES says which are), by a resource's ISO 639-1 language.
TESSERACT_CODES = {
    "en": "eng",
    "fr": "fra",
    "es": "spa",
    "de": "deu",
    "pt": "por",
    "it": "ita",
    "nl": "nld",
}
