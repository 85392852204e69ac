"""The words the exchange is built around: kinds, audiences, licences, standard topics.

Stored values are short stable codes; labels are what people read. Forms, search facets
and the credit line all take their wording from here so it is said the same way everywhere.
"""

from __future__ import annotations

KINDS = {
    "worksheet": "Worksheet",
    "template": "Template",
    "spreadsheet": "Spreadsheet",
    "quiz": "Quiz",
    "self-assessment": "Self-assessment",
    "exercise": "Exercise",
    "guide": "Guide",
    "presentation": "Presentation",
    "other": "Other",
}

AUDIENCES = {
    "any": "Any client",
    "youth": "Young people and students",
    "adults": "Adults",
    "job-seekers": "Job seekers",
    "career-changers": "Career changers",
    "returners": "People returning to work",
    "newcomers": "Newcomers and immigrants",
    "older-workers": "Older workers",
    "employees": "Employees and teams",
    "practitioners": "Counsellors and practitioners",
}

LICENCES = {
    "cc-by-4.0": "CC BY 4.0",
    "cc-by-nc-4.0": "CC BY-NC 4.0",
    "cc-by-nc-sa-4.0": "CC BY-NC-SA 4.0",
    "free-with-credit": "Free to use with credit",
    "exchange-only": "Shared within the exchange only",
}

LICENCE_URLS = {
    "cc-by-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "cc-by-nc-4.0": "https://creativecommons.org/licenses/by-nc/4.0/",
    "cc-by-nc-sa-4.0": "https://creativecommons.org/licenses/by-nc-sa/4.0/",
}

ACCESS = {
    "everyone": "Open to everyone signed in",
    "sharers": "For members who share",
}

# Who can find a resource: its page, synopsis, credit and search results. Downloading always
# needs an account (see ACCESS); "members" also hides the resource from visitors entirely.
VISIBILITY = {
    "public": "Anyone on the web",
    "members": "Signed-in members only",
}

# The languages a resource may be written in (ISO 639-1), named in English as the pages
# are. Search stems the first fourteen with rules of their own, and folds accents and cuts
# Chinese, Japanese and Korean into character pairs for all; the detector chooses only
# among these.
LANGUAGES = {
    "en": "English",
    "fr": "French",
    "es": "Spanish",
    "de": "German",
    "pt": "Portuguese",
    "it": "Italian",
    "nl": "Dutch",
    "sv": "Swedish",
    "no": "Norwegian",
    "da": "Danish",
    "fi": "Finnish",
    "ru": "Russian",
    "hu": "Hungarian",
    "ro": "Romanian",
    "ar": "Arabic",
    "zh": "Chinese",
    "cs": "Czech",
    "el": "Greek",
    "he": "Hebrew",
    "hi": "Hindi",
    "ja": "Japanese",
    "ko": "Korean",
    "pl": "Polish",
    "sk": "Slovak",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "vi": "Vietnamese",
}

# Where a named giver's credit goes in the files people download.
CREDIT_ON_PAGE = "page"
CREDIT_IN_PROPERTIES = "properties"
CREDIT_PLACEMENTS = {
    CREDIT_ON_PAGE: "On every printed page, and in the file’s details",
    CREDIT_IN_PROPERTIES: "Only in the file’s details and its name",
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
