"""Flask extensions, created unbound so the app factory can bind them to any app."""

from pathlib import Path

from flask import Flask, Response
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so Alembic migrations can drop and alter them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def failed(response: Response) -> bool:
    """Whether a limited post was turned down: the form shown again, or an error.

    Login limits use it to count guesses, not sign-ins, so a counsellor who signs in on
    several devices, or a team behind one office address, is never locked out by success.
    A refusal (429) is not counted again: it would only push the waiting time further.
    """
    return response.status_code >= 400 and response.status_code != 429


def succeeded(response: Response) -> bool:
    """Whether a limited post did its work (sent an email, posted, reported): a redirect.

    Those limits stop floods of emails and posts; a form shown again with a mistake to fix
    costs nothing and must not use up someone's allowance.
    """
    return 300 <= response.status_code < 400


def member_key() -> str:
    """Limits on members' own actions count per member, not per address: colleagues behind
    one office connection each have their own allowance."""
    if current_user.is_authenticated:
        return f"member:{current_user.id}"
    return get_remote_address()


MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def init_app(app: Flask) -> None:
    """Bind every extension to ``app``; the login view and messages live with the auth views."""
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    limiter.init_app(app)
