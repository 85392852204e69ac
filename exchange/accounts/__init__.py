"""Members and their accounts: registering, signing in, profiles and passwords
(:mod:`.members`), and the single-use links sent by email to confirm an address or reset a
password (:mod:`.links`).

Other packages use only the names exported here (``make lint`` checks it). The verbs
write in the caller's transaction and never commit: the view or command that called them
commits once (:func:`exchange.transactions.commit`), so, for instance, a new password and
the address its reset link proved are kept together or not at all.
"""

from .closing import FORMER_NAME, close_account
from .data_export import (
    KEEP_FOR,
    ExportUnderway,
    export_file_name,
    export_to_download,
    exports_of,
    member_data,
    request_export,
)
from .directory import ROLES as SITE_ROLES
from .directory import STATUSES, MemberFilter, members_matching, status_of
from .links import (
    CONFIRM_LIFETIME,
    RESET_LIFETIME,
    Confirmation,
    confirm,
    confirm_address,
    member_for_reset,
    send_already_registered,
    send_confirmation,
    send_reset,
)
from .members import (
    PROFILE_FIELDS,
    EmailTaken,
    authenticate,
    change_password,
    check_password,
    end_all_sessions,
    find_by_email,
    load_member,
    normalise_email,
    read_sign_in_token,
    register_member,
    set_language,
    sign_in_token,
    start_registration,
    update_profile,
)
from .tokens import (
    MAX_TOKENS,
    NewToken,
    TokenRefused,
    create_token,
    live_tokens_of,
    revoke_token,
    token_for,
)

__all__ = [
    "FORMER_NAME",
    "KEEP_FOR",
    "ExportUnderway",
    "close_account",
    "export_file_name",
    "export_to_download",
    "exports_of",
    "member_data",
    "request_export",
    "set_language",
    "SITE_ROLES",
    "STATUSES",
    "MemberFilter",
    "members_matching",
    "status_of",
    "CONFIRM_LIFETIME",
    "RESET_LIFETIME",
    "PROFILE_FIELDS",
    "Confirmation",
    "confirm",
    "confirm_address",
    "member_for_reset",
    "send_already_registered",
    "send_confirmation",
    "send_reset",
    "EmailTaken",
    "authenticate",
    "change_password",
    "check_password",
    "end_all_sessions",
    "find_by_email",
    "load_member",
    "normalise_email",
    "read_sign_in_token",
    "register_member",
    "sign_in_token",
    "start_registration",
    "update_profile",
    "MAX_TOKENS",
    "NewToken",
    "TokenRefused",
    "create_token",
    "live_tokens_of",
    "revoke_token",
    "token_for",
]
