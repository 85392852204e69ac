"""Forms of the admin area's members list, and of a member's own data (export, delete)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, PasswordField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..accounts import SITE_ROLES, STATUSES
from .forms import SiteForm


def _options(vocab: dict[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in vocab.items()]


class MemberSearchForm(SiteForm):
    """The members list's filters: sent with GET, so links to a filtered list can be shared."""

    class Meta:
        csrf = False

    q = StringField(_l("Name, email or organisation"), [Optional(), Length(max=200)])
    role = SelectField(_l("Role"), [Optional()], choices=_options(SITE_ROLES))
    status = SelectField(_l("Status"), [Optional()], choices=_options(STATUSES))
    joined_from = DateField(
        _l("Joined on or after"), [Optional()], description=_l("A date such as 2026-11-30.")
    )
    joined_to = DateField(_l("Joined on or before"), [Optional()])

    def validate_joined_to(self, field) -> None:
        start = self.joined_from.data
        if field.data and start and field.data < start:
            raise ValidationError(_("This date is before “Joined on or after”."))


KEEP, REMOVE = "keep", "remove"


class DeleteAccountForm(SiteForm):
    resources = RadioField(
        _l("What becomes of the resources you shared"),
        [InputRequired(_l("Please choose what becomes of your resources."))],
        choices=_options(
            {
                REMOVE: _l("Remove them from the exchange"),
                KEEP: _l(
                    "Keep them as anonymous gifts: your name is taken off them and their files"
                ),
            }
        ),
    )
    words = RadioField(
        _l("What becomes of your requests, answers and thanks"),
        [InputRequired(_l("Please choose what becomes of your requests and thanks."))],
        choices=_options(
            {
                REMOVE: _l("Remove them"),
                KEEP: _l("Keep them, signed “Former member” instead of your name"),
            }
        ),
    )
    password = PasswordField(
        _l("Password"), [DataRequired(_l("Please enter your password to confirm."))]
    )
