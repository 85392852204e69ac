"""Forms of the admin area's members list, and of a member's own data (export, delete)."""

from __future__ import annotations

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

    q = StringField("Name, email or organisation", [Optional(), Length(max=200)])
    role = SelectField("Role", [Optional()], choices=_options(SITE_ROLES))
    status = SelectField("Status", [Optional()], choices=_options(STATUSES))
    joined_from = DateField(
        "Joined on or after", [Optional()], description="A date such as 2026-11-30."
    )
    joined_to = DateField("Joined on or before", [Optional()])

    def validate_joined_to(self, field) -> None:
        start = self.joined_from.data
        if field.data and start and field.data < start:
            raise ValidationError("This date is before “Joined on or after”.")


KEEP, REMOVE = "keep", "remove"


class DeleteAccountForm(SiteForm):
    resources = RadioField(
        "What becomes of the resources you shared",
        [InputRequired("Please choose what becomes of your resources.")],
        choices=_options(
            {
                REMOVE: "Remove them from the exchange",
                KEEP: "Keep them as anonymous gifts: your name is taken off them and their files",
            }
        ),
    )
    words = RadioField(
        "What becomes of your requests, answers and thanks",
        [InputRequired("Please choose what becomes of your requests and thanks.")],
        choices=_options(
            {REMOVE: "Remove them", KEEP: "Keep them, signed “Former member” instead of your name"}
        ),
    )
    password = PasswordField("Password", [DataRequired("Please enter your password to confirm.")])
