"""What a person does on the site, through its pages, and the real files they bring along.

Fields are found by their visible labels (the form-label contract), buttons and links by
what they say, so these steps break when a person would be lost too.
"""

from __future__ import annotations

import base64
import io
import itertools
from dataclasses import dataclass

from playwright.sync_api import Page, expect

from tests.fixtures.members import docx_bytes

PASSWORD = "a long enough passphrase"
_numbers = itertools.count(1)


@dataclass(frozen=True)
class Upload:
    """A file as a browser hands it over: name, MIME type, bytes."""

    name: str
    mime: str
    content: bytes

    def as_payload(self) -> dict:
        return {"name": self.name, "mimeType": self.mime, "buffer": self.content}


DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def docx_upload(name: str, *paragraphs: str) -> Upload:
    return Upload(name, DOCX_MIME, docx_bytes(*paragraphs))


def text_upload(name: str, text: str) -> Upload:
    return Upload(name, "text/plain", text.encode())


def pdf_upload(name: str, heading: str, line: str) -> Upload:
    """A one-page PDF with real text on it (so it has a first-page preview and is searchable)."""
    import pikepdf

    pdf = pikepdf.new()
    font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
    )
    text = f"BT /F1 30 Tf 72 700 Td ({heading}) Tj 0 -44 Td /F1 15 Tf ({line}) Tj ET"
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, 612, 792],
        Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
        Contents=pdf.make_stream(text.encode()),
    )
    pdf.pages.append(pikepdf.Page(page))
    out = io.BytesIO()
    pdf.save(out)
    return Upload(name, "application/pdf", out.getvalue())


def png_upload(name: str) -> Upload:
    """A picture of a simple worksheet grid, as a counsellor might photograph or draw one."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (800, 560), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((30, 30, 770, 100), fill="#1f5f5b")
    for row in range(5):
        top = 130 + row * 80
        draw.rectangle((30, top, 770, top + 60), outline="#4a5557", width=3)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return Upload(name, "image/png", out.getvalue())


def register(page: Page, name: str | None = None) -> str:
    """Create an account through the register page; returns the email used."""
    number = next(_numbers)
    email = f"browser{number}-{id(page)}@example.org"
    page.goto("/register")
    page.get_by_label("Name", exact=True).fill(name or f"Counsellor {number}")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    page.get_by_role("link", name="Open the emailed link").click()
    expect(page.get_by_role("status")).to_contain_text("Welcome")
    return email


def log_out(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_contain_text("logged out")


@dataclass(frozen=True)
class ShareDetails:
    title: str = "Job search tracker"
    synopsis: str = "A worksheet for clients to keep track of their applications."
    how_used: str = "I give it to clients in our second session and we review it weekly."
    tags: str = "job search, networking"
    kind: str = "Worksheet"
    audience: str = "Job seekers"
    licence: str = "CC BY 4.0"
    credit: str = "Dale Briers (Collaborative Career Conversations)"
    access: str = "Open to everyone signed in"


def fill_share_form(page: Page, details: ShareDetails) -> None:
    """Type the description of a resource into the share form, as a sharer would."""
    page.get_by_label("Title", exact=True).fill(details.title)
    page.get_by_label("Synopsis", exact=True).fill(details.synopsis)
    page.get_by_label("How I use it", exact=True).fill(details.how_used)
    page.get_by_label("Kind", exact=True).select_option(label=details.kind)
    page.get_by_label("Audience", exact=True).select_option(label=details.audience)
    page.get_by_label("Tags", exact=True).fill(details.tags)
    page.get_by_label("Credit me as", exact=True).fill(details.credit)
    page.get_by_label("Licence", exact=True).select_option(label=details.licence)
    page.get_by_label(details.access, exact=True).check()
    page.get_by_label("I confirm these files contain no client").check()


def drop_files(page: Page, target: str, uploads: list[Upload]) -> None:
    """Drag files onto ``target`` the way the operating system does: dragenter, dragover, drop.

    The files are built inside the page (a DataTransfer of real File objects), because a
    test cannot drag from a desktop that does not exist.
    """
    files = [
        {"name": u.name, "type": u.mime, "b64": base64.b64encode(u.content).decode()}
        for u in uploads
    ]
    page.locator(target).evaluate(
        """(zone, files) => {
            const transfer = new DataTransfer();
            for (const f of files) {
                const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
                transfer.items.add(new File([bytes], f.name, { type: f.type }));
            }
            for (const type of ["dragenter", "dragover", "drop"]) {
                const init = { bubbles: true, cancelable: true, dataTransfer: transfer };
                zone.dispatchEvent(new DragEvent(type, init));
            }
        }""",
        files,
    )


def download_control(page: Page, filename: str):
    """The Download control for one file: a link, or a button when it spends a starter download."""
    name = f"Download {filename}"
    return page.get_by_role("link", name=name).or_(page.get_by_role("button", name=name))


def chosen_files(page: Page) -> list[str]:
    """The file names the share form lists as ready to send."""
    return page.locator("[data-file-list] .file-name").all_inner_texts()


def share_with_browser(page: Page, details: ShareDetails, uploads: list[Upload]) -> str:
    """Share through the form (files picked with the file chooser); returns the resource URL."""
    page.goto("/resources/new")
    page.get_by_label("Files", exact=True).set_input_files([u.as_payload() for u in uploads])
    fill_share_form(page, details)
    page.get_by_role("button", name="Share it").click()
    # Crediting a PDF's pages and making previews takes seconds on a busy shared machine.
    expect(page.get_by_role("heading", level=1)).to_have_text(details.title, timeout=60_000)
    return page.url
