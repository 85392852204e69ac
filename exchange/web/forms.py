"""Forms. Every message names the problem in plain words and the field it belongs to."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    FileField,
    IntegerField,
    MultipleFileField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from ..community import REPORT_REASONS
from ..i18n import lazy_label
from ..vocab import (
    ACCESS,
    AUDIENCES,
    CREDIT_ON_PAGE,
    CREDIT_PLACEMENTS,
    KINDS,
    LANGUAGES,
    LICENCES,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    VISIBILITY,
    parse_tags,
)

MIN_PASSWORD = 10

# Control characters never belong in what people type (tab and line breaks aside), and the
# NUL character is refused by PostgreSQL outright: a form drops them before validating.
_UNTYPEABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _without_control_characters(value: object) -> object:
    return _UNTYPEABLE.sub("", value) if isinstance(value, str) else value


class SiteForm(FlaskForm):
    """Every form of the site: what a browser sends is cleaned of control characters."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            options["filters"] = [_without_control_characters, *options.get("filters", ())]
            return unbound_field.bind(form=form, **options)


def _choices(vocab: dict[str, str], prompt: str | None = None) -> list[SelectChoice]:
    """Options for a select or radio group, led by an empty prompt when one is given."""
    options = [SelectChoice(value, lazy_label(label)) for value, label in vocab.items()]
    return [SelectChoice("", prompt), *options] if prompt else options


def _required(message: str) -> DataRequired:
    return DataRequired(message=message)


class RegisterForm(SiteForm):
    name = StringField(_l("Name"), [_required(_l("Please tell us your name.")), Length(max=120)])
    email = EmailField(
        _l("Email"),
        [
            _required(_l("Please enter your email address.")),
            Email(
                message=_l("That doesn’t look like an email address."), check_deliverability=False
            ),
            Length(max=254),
        ],
    )
    password = PasswordField(
        _l("Password"),
        [
            _required(_l("Please choose a password.")),
            Length(
                min=MIN_PASSWORD,
                max=200,
                message=_l("Please use at least %(least)s characters.", least=MIN_PASSWORD),
            ),
        ],
        description=_l(
            "At least %(least)s characters. A short sentence is easy to remember.",
            least=MIN_PASSWORD,
        ),
    )


class ForgotPasswordForm(SiteForm):
    email = EmailField(
        _l("Email"),
        [
            _required(_l("Please enter your email address.")),
            Email(
                message=_l("That doesn’t look like an email address."), check_deliverability=False
            ),
        ],
    )


class ResetPasswordForm(SiteForm):
    new_password = PasswordField(
        _l("New password"),
        [
            _required(_l("Please choose a new password.")),
            Length(
                min=MIN_PASSWORD,
                max=200,
                message=_l("Please use at least %(least)s characters.", least=MIN_PASSWORD),
            ),
        ],
    )


class LoginForm(SiteForm):
    email = EmailField(_l("Email"), [_required(_l("Please enter your email address."))])
    password = PasswordField(_l("Password"), [_required(_l("Please enter your password."))])
    remember = BooleanField(_l("Keep me signed in on this device"))


class ProfileForm(SiteForm):
    name = StringField(_l("Name"), [_required(_l("Please tell us your name.")), Length(max=120)])
    credit_name = StringField(
        _l("Credit me as"),
        [Length(max=200)],
        description=_l(
            "How your gifts are credited, e.g. “Dale Briers (Collaborative Career "
            "Conversations)”. Leave empty to use your name and organisation."
        ),
    )
    organisation = StringField(_l("Organisation"), [Length(max=200)])
    role = StringField(_l("Role"), [Length(max=120)])
    region = StringField(
        _l("Region"), [Length(max=120)], description=_l("City, region or country.")
    )
    bio = TextAreaField(_l("Short bio"), [Length(max=1000)])


class PasswordForm(SiteForm):
    current_password = PasswordField(_l("Current password"), [_required(_l("Please enter it."))])
    new_password = PasswordField(
        _l("New password"),
        [
            _required(_l("Please choose a new password.")),
            Length(
                min=MIN_PASSWORD,
                max=200,
                message=_l("Please use at least %(least)s characters.", least=MIN_PASSWORD),
            ),
        ],
    )


def validate_tags(form: FlaskForm, field: StringField) -> None:
    tags = parse_tags(field.data or "")
    if len(tags) > MAX_TAGS:
        raise ValidationError(_("Please use at most %(most)s tags.", most=MAX_TAGS))
    too_long = [t for t in tags if len(t) > MAX_TAG_LENGTH]
    if too_long:
        raise ValidationError(
            _(
                "“%(tag)s” is too long for a tag (%(most)s characters at most).",
                tag=too_long[0][:60],
                most=MAX_TAG_LENGTH,
            )
        )


class TagsField(StringField):
    """Comma-separated tags. A form built on a resource takes the field's starting value from
    ``resource.tags``, a list of rows, and keeps it when a post leaves the field out: the
    rows become their names, so the field always holds text."""

    def process_data(self, value) -> None:
        if value is not None and not isinstance(value, str):
            value = ", ".join(sorted(tag.name for tag in value))
        super().process_data(value)


def _yes_or_no(value: object) -> bool:
    """A radio's True or False, from the value posted ("True") or the resource's own."""
    return value is True or value == "True"


class ResourceFields(SiteForm):
    """What describes a resource, shared by the share and edit forms."""

    title = StringField(
        _l("Title"), [_required(_l("Please give your resource a title.")), Length(max=200)]
    )
    synopsis = TextAreaField(
        _l("Synopsis"),
        [_required(_l("Please say in a sentence or two what it is.")), Length(max=2000)],
        description=_l("What it is, in a sentence or two."),
    )
    how_used = TextAreaField(
        _l("How I use it"),
        [_required(_l("Please say how and when you use it with clients.")), Length(max=4000)],
        description=_l("How and when you use it with clients: the moment, the conversation, tips."),
    )
    tags = TagsField(
        _l("Tags"),
        [Length(max=600), validate_tags],
        description=_l("Separate tags with commas, e.g. job search, networking."),
    )
    kind = SelectField(
        _l("Kind"),
        [_required(_l("Please choose what kind of resource it is."))],
        choices=_choices(KINDS, _l("Choose a kind…")),
    )
    audience = SelectField(
        _l("Audience"),
        [_required(_l("Please choose who it is for."))],
        choices=_choices(AUDIENCES, _l("Choose an audience…")),
    )
    language = SelectField(
        _l("Language"),
        [Optional()],  # a form posted without it (an older page) detects it
        choices=_choices(LANGUAGES, _l("Detected from its text")),
        default="",
        description=_l("The language it is written in, so search understands its words."),
    )
    licence = SelectField(
        _l("Licence"),
        [_required(_l("Please choose how others may use it."))],
        choices=_choices(LICENCES, _l("Choose a licence…")),
    )
    access = RadioField(
        _l("Who can download"),
        [InputRequired(_l("Please choose who can download it."))],
        choices=_choices(ACCESS),
        default="everyone",
        description=_l("Downloading always needs an account."),
    )
    # Optional: a form posted without it (an older page) keeps the default, or on editing
    # the resource's own setting; a value that is not one of the choices is still refused.
    visibility = RadioField(
        _l("Who can find it"),
        [Optional()],
        choices=_choices(VISIBILITY),
        default="public",
        description=_l(
            "Its page, synopsis, credit and search results. Counsellors often find "
            "tools by web search; “Signed-in members only” hides it from everyone else."
        ),
    )
    credit_name = StringField(
        _l("Credit me as"),
        [Length(max=200)],
        description=_l("Leave empty to share anonymously."),
    )
    credit_placement = RadioField(
        _l("Where your credit goes"),
        [Optional()],  # a form sent without it keeps the default: on the page
        choices=_choices(CREDIT_PLACEMENTS),
        default=CREDIT_ON_PAGE,
    )
    credit_txt = BooleanField(
        _l("Also give a credit.txt with files that can’t carry the credit on the page"),
        description=_l(
            "Old Word, Excel and PowerPoint files, pictures and CSV tables then "
            "download as a zip: the file exactly as you shared it, and a short credit.txt with "
            "the credit line, this resource’s address and the licence."
        ),
    )
    # Optional, like the other radios: a form posted without it (an older page) keeps the
    # default, a text layer, or on editing the resource's own setting.
    text_layer = RadioField(
        _l("Scanned PDFs"),
        [Optional()],
        choices=[
            SelectChoice(
                True,
                _l(
                    "Add the words read from each page as invisible text, so the copy people "
                    "download can be searched and its text selected"
                ),
            ),
            SelectChoice(False, _l("Leave them exactly as shared")),
        ],
        coerce=_yes_or_no,
        default=True,
        description=_l("The pages look the same either way; pictures are always served as shared."),
    )


class ShareForm(ResourceFields):
    files = MultipleFileField(_l("Files"))
    no_client_data = BooleanField(
        _l("I confirm these files contain no client’s personal information"),
        [_required(_l("Please confirm the files contain no client’s personal information."))],
    )


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


MAX_CHANGE_NOTE = 300


class EditForm(ResourceFields):
    """Made by :func:`edit_form`, which gives each current file its replacement fields."""

    files = MultipleFileField(_l("Add files"), [Optional()])
    remove_files = MultiCheckboxField(_l("Remove files"), coerce=int, choices=[])
    no_client_data = BooleanField(
        _l("I confirm any new files contain no client’s personal information")
    )
    replaceable: list[tuple[int, str]] = []

    def replacement_fields(self, file_id: int) -> tuple[FileField, TextAreaField]:
        """The new version chosen for a file, and the note of what changed in it."""
        return self[f"replace_{file_id}"], self[f"note_{file_id}"]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return self._replacements_complete() and valid

    def _replacements_complete(self) -> bool:
        """A new version comes with its note (members see it in the history), and a file is
        either replaced or removed; a note with no file is most likely a file forgotten."""
        problems = [self._replacement_problem(file_id, name) for file_id, name in self.replaceable]
        for field, message in filter(None, problems):
            field.errors = [*field.errors, message]
        return not any(problems)

    def _replacement_problem(self, file_id: int, name: str) -> tuple[Field, str] | None:
        upload, note = self.replacement_fields(file_id)
        chosen = bool(getattr(upload.data, "filename", ""))
        noted = bool((note.data or "").strip())
        if chosen and file_id in (self.remove_files.data or []):
            return (
                upload,
                _(
                    "Please either remove “%(name)s” or replace it with a new version, not both.",
                    name=name,
                ),
            )
        if chosen and not noted:
            return note, _("Please say what changed in the new version of “%(name)s”.", name=name)
        if noted and not chosen:
            return upload, _(
                "Please choose the new version of “%(name)s”, or clear what changed.", name=name
            )
        return None


def edit_form(files: list[tuple[int, str]], **kwargs) -> EditForm:
    """The edit form for a resource with these files (id, name): each may be removed, or
    replaced with a new version (a file, and a note of what changed)."""
    fields: dict = {"replaceable": files}
    for file_id, name in files:
        fields[f"replace_{file_id}"] = FileField(
            _l("New version of “%(name)s”", name=name), [Optional()]
        )
        fields[f"note_{file_id}"] = TextAreaField(
            _l("What changed"),
            [Length(max=MAX_CHANGE_NOTE, message=_l("Please keep it to 300 characters or fewer."))],
            description=_l(
                "e.g. “fixed typos, added a second page”. Members see it in the "
                "file’s version history."
            ),
        )
    form = type("ResourceEditForm", (EditForm,), fields)(**kwargs)
    form.remove_files.choices = [SelectChoice(file_id, name) for file_id, name in files]
    return form


class ConfirmForm(SiteForm):
    """An empty form: a POST button with CSRF protection (delete, log out, publish…)."""


# -- the exchange: requests, asks, answers, thanks, reports ------------------------------


class RequestForm(SiteForm):
    title = StringField(
        _l("Title"),
        [_required(_l("Please say in a few words what you’d like.")), Length(max=200)],
        description=_l("e.g. “A values card sort for young people”."),
    )
    body = TextAreaField(
        _l("What you’re looking for"),
        [_required(_l("Please describe what you’re looking for.")), Length(max=2000)],
        description=_l(
            "Who it’s for, how you’d use it, and anything you’ve tried already. "
            "At least 40 characters; generic requests are turned away."
        ),
    )
    tags = StringField(
        _l("Tags"),
        [Length(max=600), validate_tags],
        description=_l("Optional. Separate tags with commas, e.g. interview skills, youth."),
    )


class AskForm(SiteForm):
    title = StringField(
        _l("What you’d like"),
        [_required(_l("Please say what you’d like them to share.")), Length(max=200)],
        description=_l("e.g. “Your budgeting worksheet for returners”."),
    )
    note = TextAreaField(
        _l("Why you’re asking"),
        [_required(_l("Please write a personal note saying why you’re asking.")), Length(max=2000)],
        description=_l(
            "A personal note: who it’s for, what you’re working on, why this colleague. "
            "At least 40 characters; generic asks are turned away."
        ),
    )


class AnswerForm(SiteForm):
    resource = SelectField(
        _l("Your resource"),
        [_required(_l("Please choose one of your resources."))],
        coerce=int,
        choices=[],
    )
    note = TextAreaField(_l("A note for them (optional)"), [Length(max=1000)])


class FulfilForm(SiteForm):
    answer = RadioField(_l("Which answer helped"), [Optional()], coerce=int, choices=[])
    thanks = TextAreaField(
        _l("Say thanks (optional)"),
        [Length(max=1000)],
        description=_l("How the resource helped; the giver will see it on the resource page."),
    )


class DeclineForm(SiteForm):
    reply = TextAreaField(
        _l("A short reply (optional)"),
        [Length(max=500)],
        description=_l("e.g. “It’s not mine to share, but try the library’s careers team.”"),
    )


class ThanksForm(SiteForm):
    note = TextAreaField(
        _l("How you used it"),
        [
            _required(_l("Please say in a few words how you used it.")),
            Length(min=10, max=1000, message=_l("Please write between 10 and 1000 characters.")),
        ],
        description=_l("A line or two for the giver: with whom, and how it went."),
    )


class ReportForm(SiteForm):
    reason = RadioField(
        _l("Reason"),
        [InputRequired(_l("Please choose a reason."))],
        choices=_choices(REPORT_REASONS),
    )
    note = TextAreaField(
        _l("Details"),
        [Length(max=2000)],
        description=_l("What the admins should know. Needed for “Something else”."),
    )


class ModerationForm(SiteForm):
    note = TextAreaField(
        _l("Note"),
        [_required(_l("Please add a note for the record.")), Length(max=2000)],
        description=_l("Why; the owner sees this when a resource is hidden."),
    )


class ExchangeSettingsForm(SiteForm):
    email_notifications = BooleanField(_l("Also send my notifications to my inbox"))


class DigestForm(SiteForm):
    weekly_digest = BooleanField(
        _l("Email me a weekly digest of what’s new"),
        description=_l(
            "New shares from the members and topics you follow, and answers to your "
            "requests: at most one email a week, and none when there is nothing new."
        ),
    )


# -- collections and workshop kits -------------------------------------------------------


class CollectionForm(SiteForm):
    """A collection or workshop kit: its words, whether it has a running order, and who sees it."""

    title = StringField(_l("Title"), [_required(_l("Please give it a title.")), Length(max=200)])
    purpose = TextAreaField(
        _l("Purpose"),
        [Length(max=2000)],
        description=_l("What it is for, e.g. “3-hour job-search workshop for newcomers”."),
    )
    is_kit = BooleanField(
        _l("Workshop kit with a running order"),
        description=_l("Each item gets its minutes, and the download has a running-order sheet."),
    )
    public = BooleanField(
        _l("Share it with colleagues"),
        description=_l(
            "Others can find it, download it and make their own version. Unticked, only you see it."
        ),
    )
    tags = TagsField(
        _l("Tags"),
        [Length(max=600), validate_tags],
        description=_l("Optional. Separate tags with commas, e.g. job search, groups."),
    )


class ItemNoteForm(SiteForm):
    """How one item fits the kit, and its minutes in the running order."""

    note = StringField(
        _l("Note"), [Length(max=300)], description=_l("How it fits, e.g. “15 min, in pairs”.")
    )
    minutes = IntegerField(
        _l("Minutes"),
        [Optional(), NumberRange(min=0, max=24 * 60, message=_l("Please give 0 to 1440 minutes."))],
    )


class AddToCollectionForm(SiteForm):
    collection = SelectField(_l("Add to"), coerce=int, choices=[])
    note = StringField(_l("Note (optional)"), [Length(max=300)])
