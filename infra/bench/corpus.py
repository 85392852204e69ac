"""Real-looking resources for benchmarks, built from the shared corpus's career texts.

A multilingual slice rides along: about one resource in ten is French or Spanish (worksheet
prose written around the O*NET occupation it is about), and now and then one holds the text
of one of the corpus's non-English files (German, Czech, Japanese, Chinese, Italian…).

Each synthetic resource is about one occupation from O*NET: its title names the
occupation and a kind of tool, its synopsis is the occupation's description, and its
"file text" is that occupation's task statements wrapped in worksheet prompts, with now
and then a passage from the corpus's career guides. Term frequencies therefore look like
a real toolkit (topic words cluster) rather than uniform noise.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from exchange import vocab

# The site's own vocabularies, as lists to draw from (in their declared order).
KINDS = list(vocab.KINDS)
AUDIENCES = list(vocab.AUDIENCES)
LICENCES = list(vocab.LICENCES)
TOPICS = list(vocab.STANDARD_TOPICS)

KIND_PHRASES = {
    "worksheet": ["skills worksheet", "task reflection worksheet", "interest checklist"],
    "template": ["resume template", "cover letter template", "action plan template"],
    "spreadsheet": ["job search tracker", "budget planner", "skills matrix"],
    "quiz": ["knowledge quiz", "career quiz"],
    "self-assessment": ["self-assessment", "strengths inventory", "values card sort"],
    "exercise": ["interview practice exercise", "informational interview exercise"],
    "guide": ["career guide", "job search guide", "networking guide"],
    "presentation": ["workshop slides", "group session slides"],
    "other": ["resource pack", "reading list"],
}
FORMATS = [("docx", 5), ("pdf", 4), ("xlsx", 3), ("pptx", 1), ("odt", 1), ("txt", 1)]
# O*NET (SOC) major groups, as the sector tags counsellors add beside a topic.
SECTORS = {
    "11": "management",
    "13": "business and finance",
    "15": "computing and maths",
    "17": "engineering",
    "19": "science",
    "21": "community and social services",
    "23": "legal",
    "25": "teaching",
    "27": "arts and media",
    "29": "healthcare",
    "31": "healthcare support",
    "33": "protective services",
    "35": "food service",
    "37": "cleaning and grounds",
    "39": "personal care",
    "41": "sales",
    "43": "office work",
    "45": "farming and fishing",
    "47": "construction",
    "49": "maintenance and repair",
    "51": "manufacturing",
    "53": "transport",
    "55": "military",
}
GIVEN_NAMES = (
    "Ana Ben Chidi Dale Eva Farah Gus Hana Ivan Jo Kemal Lena Marta Niamh Omar Priya Quinn Rosa"
    " Sven Tariq Uma Vic Wen Yusuf Zoe"
).split()
FAMILY_NAMES = (
    "Abara Briers Chen Dubois Evans Fischer Garcia Haddad Ito Jensen Kowalski Lopez Murphy"
    " Nguyen Okafor Patel Rossi Silva Tanaka Walsh"
).split()
PROMPTS = [
    "Rate yourself from 1 to 5 on each task below.",
    "Which of these tasks have you done before, paid or unpaid?",
    "Circle the tasks you would enjoy and underline the ones you would avoid.",
    "For each task, write one example from your own experience.",
    "Discuss with your counsellor which skills transfer to your next role.",
    "Next steps: who could you talk to about this kind of work?",
]
HOW_USED = [
    "I use this in a first session to open a conversation about {topic}.",
    "Clients complete it at home and we review it together the following week.",
    "Works well in group workshops on {topic}; allow about 30 minutes.",
    "I pair it with labour market information for clients considering {occupation}.",
    "Useful for career changers who want to see how their experience maps to {occupation}.",
    "I adapt the wording for young people and use it during {topic} sessions.",
]


@dataclass
class SampleResource:
    title: str
    synopsis: str
    how_used: str
    tags: list[str]
    kind: str
    audience: str
    licence: str
    format: str
    text: str
    created_at: datetime
    downloads: int
    owner: int  # 0-based index into the members the caller creates
    credit_name: str  # "" = anonymous
    status: str
    access: str
    language: str = "en"


def member_name(number: int) -> str:
    """A plausible, stable name for the ``number``-th member."""
    given = GIVEN_NAMES[number % len(GIVEN_NAMES)]
    family = FAMILY_NAMES[(number // len(GIVEN_NAMES)) % len(FAMILY_NAMES)]
    return f"{given} {family}"


def _read_xlsx_rows(path: Path) -> list[tuple]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    try:
        return list(workbook.active.iter_rows(values_only=True))[1:]
    finally:
        workbook.close()


class CorpusSource:
    """The career texts the generator draws on (read once, then reused)."""

    def __init__(self, corpus_dir: Path) -> None:
        onet = corpus_dir / "career" / "onet"
        self.occupations = [
            (code, title, description)
            for code, title, description in _read_xlsx_rows(onet / "Occupation Data.xlsx")
            if description
        ]
        self.tasks: dict[str, list[str]] = defaultdict(list)
        for row in _read_xlsx_rows(onet / "Task Statements.xlsx"):
            self.tasks[row[0]].append(row[3])
        self.passages = self._guide_passages(corpus_dir / "career" / "md")
        self.foreign = _foreign_texts(corpus_dir / "nonenglish")

    @staticmethod
    def _guide_passages(folder: Path) -> list[str]:
        passages = []
        for path in sorted(folder.glob("*.md")):
            text = re.sub(r"[#*_>`\[\]()]|<[^>]+>", " ", path.read_text(encoding="utf-8"))
            passages += [p.strip() for p in text.split("\n\n") if len(p.split()) > 25]
        return passages


def generate(
    source: CorpusSource, count: int, seed: int = 7, members: int = 100
) -> Iterator[SampleResource]:
    """``count`` resources shared by ``members`` people, the same ones for the same seed.

    A few givers share most of the toolkit (as in any community); about one in twenty
    resources is a draft or hidden, so visibility filters have something to filter.
    """
    rnd = random.Random(seed)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    formats, weights = zip(*FORMATS, strict=True)
    for number in range(count):
        code, occupation, description = rnd.choice(source.occupations)
        kind = rnd.choice(KINDS)
        topic = rnd.choice(TOPICS)
        owner = min(members - 1, int(rnd.paretovariate(1.2)) - 1)
        sample = SampleResource(
            title=f"{occupation}: {rnd.choice(KIND_PHRASES[kind])}",
            synopsis=description,
            how_used=rnd.choice(HOW_USED).format(topic=topic, occupation=occupation.lower()),
            tags=_tags(rnd, topic, code),
            kind=kind,
            audience=rnd.choice(AUDIENCES),
            licence=rnd.choice(LICENCES),
            format=rnd.choices(formats, weights)[0],
            text=_file_text(rnd, source, code, occupation),
            created_at=start + timedelta(minutes=7 * number),
            downloads=int(rnd.paretovariate(1.5)) - 1,
            owner=owner,
            credit_name="" if rnd.random() < 0.3 else member_name(owner),
            status=rnd.choices(["published", "draft", "hidden"], [95, 3, 2])[0],
            access=rnd.choices(["everyone", "sharers"], [4, 1])[0],
        )
        yield _in_another_language(rnd, source, sample, occupation)


MULTILINGUAL_SHARE = 0.12  # of resources French, Spanish or a non-English corpus file


def _in_another_language(
    rnd: random.Random, source: CorpusSource, sample: SampleResource, occupation: str
) -> SampleResource:
    if rnd.random() >= MULTILINGUAL_SHARE:
        return sample
    if source.foreign and rnd.random() < 0.08:
        name, text, language = rnd.choice(source.foreign)
        sample.title, sample.text, sample.language = name, text, language or "en"
        return sample
    return translated(rnd, sample, occupation)


FOREIGN_FORMATS = {".pdf": "pdf", ".doc": "doc", ".rtf": "rtf", ".xlsx": "xlsx", ".txt": "txt"}
FOREIGN_CHARS = 20_000
# Worksheet prose in French and Spanish, written around an occupation's name.
PROSE = {
    "fr": {
        "titles": [
            "fiche d'exercice",
            "modèle de curriculum vitæ",
            "guide d'entrevue",
            "questionnaire d'auto-évaluation",
            "plan d'action",
        ],
        "synopsis": "Une fiche pour explorer le métier de {occ} : les tâches, les compétences "
        "et les études nécessaires.",
        "how_used": "J'utilise cette fiche lors des entrevues individuelles avec des clients "
        "qui envisagent le métier de {occ}.",
        "lines": [
            "Évaluez-vous de 1 à 5 pour chaque tâche décrite ci-dessous.",
            "Quelles tâches du métier de {occ} avez-vous déjà réalisées ?",
            "Discutez avec votre conseillère des compétences transférables.",
            "Prochaines étapes : à qui pourriez-vous parler de ce métier ?",
            "Préparez trois questions pour votre prochaine entrevue d'embauche.",
            "Décrivez une réalisation dont vous êtes fier ou fière.",
            "Mettez à jour votre résumé avant de postuler comme {occ}.",
        ],
    },
    "es": {
        "titles": [
            "hoja de trabajo",
            "plantilla de currículum",
            "guía de entrevista",
            "cuestionario de autoevaluación",
            "plan de acción",
        ],
        "synopsis": "Una hoja para explorar la ocupación de {occ}: las tareas, las "
        "habilidades y la formación necesarias.",
        "how_used": "La uso en las entrevistas individuales con clientes que piensan "
        "trabajar como {occ}.",
        "lines": [
            "Evalúese de 1 a 5 en cada tarea descrita a continuación.",
            "¿Qué tareas de {occ} ha realizado ya?",
            "Hable con su orientadora sobre las habilidades transferibles.",
            "Próximos pasos: ¿con quién podría hablar sobre este trabajo?",
            "Prepare tres preguntas para su próxima entrevista de trabajo.",
            "Describa un logro del que se sienta orgulloso u orgullosa.",
            "Actualice su currículum antes de postularse como {occ}.",
        ],
    },
}


def _foreign_texts(folder: Path) -> list[tuple[str, str, str]]:
    """(name, text, language) of each non-English corpus file the site can read."""
    from exchange.files.extract import extract_text
    from exchange.search import detect_language

    found = []
    for path in sorted(folder.glob("*")):
        fmt = FOREIGN_FORMATS.get(path.suffix.lower())
        try:
            text = extract_text(path, fmt)[:FOREIGN_CHARS] if fmt else ""
        except Exception:  # noqa: BLE001 - a file this site cannot read is left out
            text = ""
        if text.strip():
            found.append((path.stem, text, detect_language(text)))
    return found


def translated(rnd: random.Random, sample: SampleResource, occupation: str) -> SampleResource:
    """``sample`` rewritten in French or Spanish, or holding a non-English corpus file."""
    roll = rnd.random()
    if roll < 0.5:
        language = "fr"
    elif roll < 0.9:
        language = "es"
    else:
        return sample
    prose = PROSE[language]
    lines = [line.format(occ=occupation) for line in rnd.sample(prose["lines"], 5)]
    sample.title = f"{occupation} : {rnd.choice(prose['titles'])}"
    sample.synopsis = prose["synopsis"].format(occ=occupation)
    sample.how_used = prose["how_used"].format(occ=occupation)
    sample.text = "\n".join([occupation, *lines])
    sample.language = language
    return sample


def _tags(rnd: random.Random, topic: str, code: str) -> list[str]:
    tags = {topic, *rnd.sample(TOPICS, rnd.randint(0, 2))}
    if rnd.random() < 0.6:
        tags.add(SECTORS.get(code[:2], "other sectors"))
    return sorted(tags)


def _file_text(rnd: random.Random, source: CorpusSource, code: str, occupation: str) -> str:
    tasks = source.tasks.get(code) or rnd.choice(list(source.tasks.values()))
    lines = [occupation, rnd.choice(PROMPTS)]
    chosen = rnd.sample(tasks, min(len(tasks), rnd.randint(6, 25)))
    lines += [f"{i}. {task} ____" for i, task in enumerate(chosen, 1)]
    lines.append(rnd.choice(PROMPTS))
    if source.passages and rnd.random() < 0.3:
        lines.append(rnd.choice(source.passages))
    return "\n".join(lines)
