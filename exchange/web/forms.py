"""Forms. Every message names the problem in plain words and the field it belongs to."""

from __future__ import annotations

import re

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
    options = [SelectChoice(value, label) for value, label in vocab.items()]
    return [SelectChoice("", prompt), *options] if prompt else options


def _required(message: str) -> DataRequired:
    return DataRequired(message=message)


class RegisterForm(SiteForm):
    name = StringField("Name", [_required("Please tell us your name."), Length(max=120)])
    email = EmailField(
        "Email",
        [
            _required("Please enter your email address."),
            Email(message="That doesn’t look like an email address.", check_deliverability=False),
            Length(max=254),
        ],
    )
    password = PasswordField(
        "Password",
        [
            _required("Please choose a password."),
            Length(
                min=MIN_PASSWORD,
                max=200,
                message=f"Please use at least {MIN_PASSWORD} characters.",
            ),
        ],
        description=f"At least {MIN_PASSWORD} characters. A short sentence is easy to remember.",
    )


class ForgotPasswordForm(SiteForm):
    email = EmailField(
        "Email",
        [
            _required("Please enter your email address."),
            Email(message="That doesn’t look like an email address.", check_deliverability=False),
        ],
    )


class ResetPasswordForm(SiteForm):
    new_password = PasswordField(
        "New password",
        [
            _required("Please choose a new password."),
            Length(
                min=MIN_PASSWORD, max=200, message=f"Please use at least {MIN_PASSWORD} characters."
            ),
        ],
    )


class LoginForm(SiteForm):
    email = EmailField("Email", [_required("Please enter your email address.")])
    password = PasswordField("Password", [_required("Please enter your password.")])
    remember = BooleanField("Keep me signed in on this device")


class ProfileForm(SiteForm):
    name = StringField("Name", [_required("Please tell us your name."), Length(max=120)])
    credit_name = StringField(
        "Credit me as",
        [Length(max=200)],
        description="How your gifts are credited, e.g. “Dale Briers (Collaborative Career "
        "Conversations)”. Leave empty to use your name and organisation.",
    )
    organisation = StringField("Organisation", [Length(max=200)])
    role = StringField("Role", [Length(max=120)])
    region = StringField("Region", [Length(max=120)], description="City, region or country.")
    bio = TextAreaField("Short bio", [Length(max=1000)])


class PasswordForm(SiteForm):
    current_password = PasswordField("Current password", [_required("Please enter it.")])
    new_password = PasswordField(
        "New password",
        [
            _required("Please choose a new password."),
            Length(
                min=MIN_PASSWORD, max=200, message=f"Please use at least {MIN_PASSWORD} characters."
            ),
        ],
    )


def validate_tags(form: FlaskForm, field: StringField) -> None:
    tags = parse_tags(field.data or "")
    if len(tags) > MAX_TAGS:
        raise ValidationError(f"Please use at most {MAX_TAGS} tags.")
    too_long = [t for t in tags if len(t) > MAX_TAG_LENGTH]
    if too_long:
        raise ValidationError(
            f"“{too_long[0][:60]}” is too long for a tag ({MAX_TAG_LENGTH} characters at most)."
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

    title = StringField("Title", [_required("Please give your resource a title."), Length(max=200)])
    synopsis = TextAreaField(
        "Synopsis",
        [_required("Please say in a sentence or two what it is."), Length(max=2000)],
        description="What it is, in a sentence or two.",
    )
    how_used = TextAreaField(
        "How I use it",
        [_required("Please say how and when you use it with clients."), Length(max=4000)],
        description="How and when you use it with clients: the moment, the conversation, tips.",
    )
    tags = TagsField(
        "Tags",
        [Length(max=600), validate_tags],
        description="Separate tags with commas, e.g. job search, networking.",
    )
    kind = SelectField(
        "Kind",
        [_required("Please choose what kind of resource it is.")],
        choices=_choices(KINDS, "Choose a kind…"),
    )
    audience = SelectField(
        "Audience",
        [_required("Please choose who it is for.")],
        choices=_choices(AUDIENCES, "Choose an audience…"),
    )
    language = SelectField(
        "Language",
        [Optional()],  # a form posted without it (an older page) detects it
        choices=_choices(LANGUAGES, "Detected from its text"),
        default="",
        description="The language it is written in, so search understands its words.",
    )
    licence = SelectField(
        "Licence",
        [_required("Please choose how others may use it.")],
        choices=_choices(LICENCES, "Choose a licence…"),
    )
    access = RadioField(
        "Who can download",
        [InputRequired("Please choose who can download it.")],
        choices=_choices(ACCESS),
        default="everyone",
        description="Downloading always needs an account.",
    )
    # Optional: a form posted without it (an older page) keeps the default, or on editing
    # the resource's own setting; a value that is not one of the choices is still refused.
    visibility = RadioField(
        "Who can find it",
        [Optional()],
        choices=_choices(VISIBILITY),
        default="public",
        description="Its page, synopsis, credit and search results. Counsellors often find "
        "tools by web search; “Signed-in members only” hides it from everyone else.",
    )
    credit_name = StringField(
        "Credit me as",
        [Length(max=200)],
        description="Leave empty to share anonymously.",
    )
    credit_placement = RadioField(
        "Where your credit goes",
        [Optional()],  # a form sent without it keeps the default: on the page
        choices=_choices(CREDIT_PLACEMENTS),
        default=CREDIT_ON_PAGE,
    )
    credit_txt = BooleanField(
        "Also give a credit.txt with files that can’t carry the credit on the page",
        description="Old Word, Excel and PowerPoint files, pictures and CSV tables then "
        "download as a zip: the file exactly as you shared it, and a short credit.txt with "
        "the credit line, this resource’s address and the licence.",
    )
    # Optional, like the other radios: a form posted without it (an older page) keeps the
    # default, a text layer, or on editing the resource's own setting.
    text_layer = RadioField(
        "Scanned PDFs",
        [Optional()],
        choices=[
            SelectChoice(
                True,
                "Add the words read from each page as invisible text, so the copy people "
                "download can be searched and its text selected",
            ),
            SelectChoice(False, "Leave them exactly as shared"),
        ],
        coerce=_yes_or_no,
        default=True,
        description="The pages look the same either way; pictures are always served as shared.",
    )


class ShareForm(ResourceFields):
    files = MultipleFileField("Files")
    no_client_data = BooleanField(
        "I confirm these files contain no client’s personal information",
        [_required("Please confirm the files contain no client’s personal information.")],
    )


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


MAX_CHANGE_NOTE = 300


class EditForm(ResourceFields):
    """Made by :func:`edit_form`, which gives each current file its replacement fields."""

    files = MultipleFileField("Add files", [Optional()])
    remove_files = MultiCheckboxField("Remove files", coerce=int, choices=[])
    no_client_data = BooleanField(
        "I confirm any new files contain no client’s personal information"
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
                f"Please either remove “{name}” or replace it with a new version, not both.",
            )
        if chosen and not noted:
            return note, f"Please say what changed in the new version of “{name}”."
        if noted and not chosen:
            return upload, f"Please choose the new version of “{name}”, or clear what changed."
        return None


def edit_form(files: list[tuple[int, str]], **kwargs) -> EditForm:
    """The edit form for a resource with these files (id, name): each may be removed, or
    replaced with a new version (a file, and a note of what changed)."""
    fields: dict = {"replaceable": files}
    for file_id, name in files:
        fields[f"replace_{file_id}"] = FileField(f"New version of “{name}”", [Optional()])
        fields[f"note_{file_id}"] = TextAreaField(
            "What changed",
            [Length(max=MAX_CHANGE_NOTE, message="Please keep it to 300 characters or fewer.")],
            description="e.g. “fixed typos, added a second page”. Members see it in the "
            "file’s version history.",
        )
    form = type("ResourceEditForm", (EditForm,), fields)(**kwargs)
    form.remove_files.choices = [SelectChoice(file_id, name) for file_id, name in files]
    return form


class ConfirmForm(SiteForm):
    """An empty form: a POST button with CSRF protection (delete, log out, publish…)."""


# -- the exchange: requests, asks, answers, thanks, reports ------------------------------


class RequestForm(SiteForm):
    title = StringField(
        "Title",
        [_required("Please say in a few words what you’d like."), Length(max=200)],
        description="e.g. “A values card sort for young people”.",
    )
    body = TextAreaField(
        "What you’re looking for",
        [_required("Please describe what you’re looking for."), Length(max=2000)],
        description="Who it’s for, how you’d use it, and anything you’ve tried already. "
        "At least 40 characters; generic requests are turned away.",
    )
    tags = StringField(
        "Tags",
        [Length(max=600), validate_tags],
        description="Optional. Separate tags with commas, e.g. interview skills, youth.",
    )


class AskForm(SiteForm):
    title = StringField(
        "What you’d like",
        [_required("Please say what you’d like them to share."), Length(max=200)],
        description="e.g. “Your budgeting worksheet for returners”.",
    )
    note = TextAreaField(
        "Why you’re asking",
        [_required("Please write a personal note saying why you’re asking."), Length(max=2000)],
        description="A personal note: who it’s for, what you’re working on, why this colleague. "
        "At least 40 characters; generic asks are turned away.",
    )


class AnswerForm(SiteForm):
    resource = SelectField(
        "Your resource",
        [_required("Please choose one of your resources.")],
        coerce=int,
        choices=[],
    )
    note = TextAreaField("A note for them (optional)", [Length(max=1000)])


class FulfilForm(SiteForm):
    answer = RadioField("Which answer helped", [Optional()], coerce=int, choices=[])
    thanks = TextAreaField(
        "Say thanks (optional)",
        [Length(max=1000)],
        description="How the resource helped; the giver will see it on the resource page.",
    )


class DeclineForm(SiteForm):
    reply = TextAreaField(
        "A short reply (optional)",
        [Length(max=500)],
        description="e.g. “It’s not mine to share, but try the library’s careers team.”",
    )


class ThanksForm(SiteForm):
    note = TextAreaField(
        "How you used it",
        [
            _required("Please say in a few words how you used it."),
            Length(min=10, max=1000, message="Please write between 10 and 1000 characters."),
        ],
        description="A line or two for the giver: with whom, and how it went.",
    )


class ReportForm(SiteForm):
    reason = RadioField(
        "Reason",
        [InputRequired("Please choose a reason.")],
        choices=_choices(REPORT_REASONS),
    )
    note = TextAreaField(
        "Details",
        [Length(max=2000)],
        description="What the admins should know. Needed for “Something else”.",
    )


class ModerationForm(SiteForm):
    note = TextAreaField(
        "Note",
        [_required("Please add a note for the record."), Length(max=2000)],
        description="Why; the owner sees this when a resource is hidden.",
    )


class ExchangeSettingsForm(SiteForm):
    email_notifications = BooleanField("Also send my notifications to my inbox")


class DigestForm(SiteForm):
    weekly_digest = BooleanField(
        "Email me a weekly digest of what’s new",
        description="New shares from the members and topics you follow, and answers to your "
        "requests: at most one email a week, and none when there is nothing new.",
    )


# -- collections and workshop kits -------------------------------------------------------


class CollectionForm(SiteForm):
    """A collection or workshop kit: its words, whether it has a running order, and who sees it."""

    title = StringField("Title", [_required("Please give it a title."), Length(max=200)])
    purpose = TextAreaField(
        "Purpose",
        [Length(max=2000)],
        description="What it is for, e.g. “3-hour job-search workshop for newcomers”.",
    )
    is_kit = BooleanField(
        "Workshop kit with a running order",
        description="Each item gets its minutes, and the download has a running-order sheet.",
    )
    public = BooleanField(
        "Share it with colleagues",
        description="Others can find it, download it and make their own version. "
        "Unticked, only you see it.",
    )
    tags = TagsField(
        "Tags",
        [Length(max=600), validate_tags],
        description="Optional. Separate tags with commas, e.g. job search, groups.",
    )


class ItemNoteForm(SiteForm):
    """How one item fits the kit, and its minutes in the running order."""

    note = StringField(
        "Note", [Length(max=300)], description="How it fits, e.g. “15 min, in pairs”."
    )
    minutes = IntegerField(
        "Minutes",
        [Optional(), NumberRange(min=0, max=24 * 60, message="Please give 0 to 1440 minutes.")],
    )


class AddToCollectionForm(SiteForm):
    collection = SelectField("Add to", coerce=int, choices=[])
    note = StringField("Note (optional)", [Length(max=300)])
