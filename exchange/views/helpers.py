"""Small things every template and view needs: safe redirects, sizes, dates, paging."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from flask import Flask, jsonify, redirect, render_template, request, url_for

from ..filetypes import ACCEPT_ATTRIBUTE, ALLOWED, ALLOWED_SUMMARY


def safe_next(target: str | None, fallback: str = "main.home") -> str:
    """Only ever redirect to a path on this site (never ``//evil``, ``/\\evil``, ``https://…``)."""
    if not target:
        return url_for(fallback)
    cleaned = target.replace("\\", "/").strip()
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc or not cleaned.startswith("/") or cleaned.startswith("//"):
        return url_for(fallback)
    if any(ord(ch) < 32 for ch in cleaned):
        return url_for(fallback)
    return cleaned


def human_size(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


def nice_date(moment: datetime | None) -> str:
    return moment.strftime("%-d %B %Y") if moment else ""


def page_number() -> int:
    """The ``page`` query argument as a positive whole number (1 when missing or odd)."""
    number = whole_number(request.args.get("page", "1"))
    return number if number and number < 100_000 else 1


def whole_number(raw: str) -> int | None:
    """``raw`` as a whole number, or None (``"²".isdigit()`` is True, but ``int("²")`` fails)."""
    return int(raw) if raw.isascii() and raw.isdigit() else None


def file_label(fmt: str) -> str:
    """What people call a format: "Word document", "PDF"."""
    known = ALLOWED.get(fmt)
    return known.label if known else fmt.upper()


def register(app: Flask) -> None:
    app.jinja_env.filters.update(human_size=human_size, nice_date=nice_date)
    app.jinja_env.globals.update(
        accept_attribute=ACCEPT_ATTRIBUTE, allowed_summary=ALLOWED_SUMMARY, file_label=file_label
    )


def form_page(template: str, form, **context):
    """Render a form page: 422 when it is being shown again with problems named, else 200."""
    status = 422 if form.errors else 200
    return render_template(template, form=form, **context), status


def redirect_after_post(url: str):
    """A redirect, or for the upload script (which follows it itself) the address as JSON."""
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return jsonify(redirect=url)
    return redirect(url)
