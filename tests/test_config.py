"""Configuration is read from EXCHANGE_* variables and checked when the app starts."""

from __future__ import annotations

import shutil

import pytest

from exchange import create_app
from exchange.config import ConfigError

from .conftest import TEST_SECRET


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A clean EXCHANGE_* environment pointing at a temporary instance folder."""
    import os

    for name in list(os.environ):
        if name.startswith("EXCHANGE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("EXCHANGE_INSTANCE_DIR", str(tmp_path / "instance"))
    return monkeypatch


def test_production_refuses_a_missing_secret(env):
    env.setenv("EXCHANGE_ENV", "production")
    with pytest.raises(ConfigError, match="EXCHANGE_SECRET_KEY"):
        create_app()


@pytest.mark.parametrize("secret", ["changeme", "short-secret", "dev"])
def test_production_refuses_a_weak_secret(env, secret):
    env.setenv("EXCHANGE_ENV", "production")
    env.setenv("EXCHANGE_SECRET_KEY", secret)
    with pytest.raises(ConfigError, match="at least 32 characters"):
        create_app()


def test_production_accepts_a_strong_secret(env):
    env.setenv("EXCHANGE_ENV", "production")
    env.setenv("EXCHANGE_SECRET_KEY", TEST_SECRET)
    env.setenv("EXCHANGE_SITE_URL", "https://toolkit.example.org")
    assert create_app().config["SECRET_KEY"] == TEST_SECRET


def test_development_secret_is_made_once_and_kept(env, tmp_path):
    env.setenv("EXCHANGE_ENV", "development")
    first = create_app().config["SECRET_KEY"]
    second = create_app().config["SECRET_KEY"]
    assert first == second
    assert len(first) >= 32
    secret_file = tmp_path / "instance" / "secret_key"
    assert secret_file.read_text().strip() == first
    assert secret_file.stat().st_mode & 0o077 == 0, "the secret file is private to its owner"


def test_environment_variables_are_read_and_typed(env, tmp_path):
    env.setenv("EXCHANGE_ENV", "development")
    env.setenv("EXCHANGE_MAX_UPLOAD_MB", "7")
    env.setenv("EXCHANGE_STARTER_DOWNLOADS", "5")
    env.setenv("EXCHANGE_STORAGE_URL", (tmp_path / "elsewhere").as_uri())
    config = create_app().config
    assert config["MAX_UPLOAD_MB"] == 7
    assert config["STARTER_DOWNLOADS"] == 5
    assert config["MAX_CONTENT_LENGTH"] > 7 * 1024 * 1024
    assert config["STORAGE_URL"].endswith("/elsewhere")


def test_embedded_defaults_live_in_the_instance_folder(env, tmp_path):
    env.setenv("EXCHANGE_ENV", "development")
    config = create_app().config
    instance = tmp_path / "instance"
    assert config["DATABASE_URL"] == f"sqlite:///{instance / 'exchange.sqlite3'}"
    assert config["STORAGE_URL"] == (instance / "files").as_uri()
    assert config["INDEX_DIR"] == str(instance / "index")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("EXCHANGE_STORAGE_URL", "ftp://files", "file:// or s3://"),
        ("EXCHANGE_MAX_UPLOAD_MB", "-1", "EXCHANGE_MAX_UPLOAD_MB"),
        ("EXCHANGE_ENV", "staging", "EXCHANGE_ENV"),
        ("EXCHANGE_OFFICE_PREVIEWS", "maybe", "EXCHANGE_OFFICE_PREVIEWS"),
        ("EXCHANGE_OCR", "maybe", "EXCHANGE_OCR must be"),
        ("EXCHANGE_OCR_PAGE_LIMIT", "0", "EXCHANGE_OCR_PAGE_LIMIT"),
        ("EXCHANGE_OCR_SECONDS_PER_PAGE", "-5", "EXCHANGE_OCR_SECONDS_PER_PAGE"),
        ("EXCHANGE_OCR_LANGUAGES", "eng; rm -rf /", "EXCHANGE_OCR_LANGUAGES"),
    ],
)
def test_unusable_settings_are_refused_with_the_variable_named(env, name, value, message):
    env.setenv("EXCHANGE_ENV", "development")
    env.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        create_app()


def test_office_previews_follow_libreoffice_unless_set(env, tmp_path):
    """On by default exactly where LibreOffice is installed; asked for without it, refused."""
    env.setenv("EXCHANGE_ENV", "development")
    installed = shutil.which("soffice") is not None
    assert create_app().config["OFFICE_PREVIEWS"] is installed
    env.setenv("EXCHANGE_OFFICE_PREVIEWS", "0")
    assert create_app().config["OFFICE_PREVIEWS"] is False
    env.setenv("EXCHANGE_OFFICE_PREVIEWS", "1")
    env.setenv("PATH", str(tmp_path))  # a machine without soffice
    with pytest.raises(ConfigError, match="EXCHANGE_OFFICE_PREVIEWS is on but LibreOffice"):
        create_app()


def test_ocr_follows_tesseract_unless_set_and_needs_its_languages(env, tmp_path):
    """On by default exactly where Tesseract is installed; languages it lacks, or OCR asked
    for without it, are refused at start-up."""
    env.setenv("EXCHANGE_ENV", "development")
    installed = shutil.which("tesseract") is not None
    assert create_app().config["OCR"] is installed
    env.setenv("EXCHANGE_OCR", "0")
    assert create_app().config["OCR"] is False
    env.setenv("EXCHANGE_OCR", "1")
    if installed:
        env.setenv("EXCHANGE_OCR_LANGUAGES", "eng+xho")
        with pytest.raises(ConfigError, match="names xho, which Tesseract does not have"):
            create_app()
    env.setenv("PATH", str(tmp_path))  # a machine without tesseract
    with pytest.raises(ConfigError, match="EXCHANGE_OCR is on but Tesseract"):
        create_app()


def test_importing_the_package_reads_no_configuration(env):
    """The app factory is the only place configuration is read (nothing at import time)."""
    import subprocess
    import sys

    code = "import exchange, exchange.models, exchange.web, exchange.ops.cli; print('ok')"
    env.setenv("EXCHANGE_ENV", "production")  # would be refused if anything built an app
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_production_refuses_to_start_without_its_site_url(env):
    env.setenv("EXCHANGE_ENV", "production")
    env.setenv("EXCHANGE_SECRET_KEY", TEST_SECRET)
    with pytest.raises(ConfigError, match="EXCHANGE_SITE_URL is required in production"):
        create_app()


@pytest.mark.parametrize("url", ["toolkit.example.org", "ftp://toolkit.example.org", "https://"])
def test_a_site_url_that_is_not_an_address_is_refused(env, url):
    env.setenv("EXCHANGE_ENV", "development")
    env.setenv("EXCHANGE_SITE_URL", url)
    with pytest.raises(ConfigError, match="EXCHANGE_SITE_URL must be the site's address"):
        create_app()


def test_development_links_lead_to_the_development_server(env):
    env.setenv("EXCHANGE_ENV", "development")
    config = create_app().config
    assert config["SITE_URL"] == "http://127.0.0.1:5000"
    assert {"127.0.0.1", "localhost"} <= set(config["TRUSTED_HOSTS"])


def test_production_answers_only_for_its_own_host_and_the_ones_listed(env):
    env.setenv("EXCHANGE_ENV", "production")
    env.setenv("EXCHANGE_SECRET_KEY", TEST_SECRET)
    env.setenv("EXCHANGE_SITE_URL", "https://toolkit.example.org/")
    env.setenv("EXCHANGE_TRUSTED_HOSTS", "127.0.0.1, 10.0.0.12")
    app = create_app()
    assert app.config["SITE_URL"] == "https://toolkit.example.org"
    assert app.config["TRUSTED_HOSTS"] == ["toolkit.example.org", "127.0.0.1", "10.0.0.12"]
    client = app.test_client()  # (no database here: a missing page is answer enough)
    assert client.get("/nowhere", base_url="https://toolkit.example.org").status_code == 404
    assert client.get("/nowhere", base_url="http://127.0.0.1:8000").status_code == 404
    assert client.get("/nowhere", base_url="http://localhost").status_code == 400
