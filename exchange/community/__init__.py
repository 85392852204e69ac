"""The give-and-take around resources: requests and their answers, thanks, each member's
saved toolkit, reports and moderation, what a giver's gifts achieved (:mod:`.impact`), and
following members and topics with what is new from them (:mod:`.follows`, the weekly
digest in :mod:`.digest`). The notifications and emails these cause go through
:mod:`exchange.notify`.

Other packages use only the names exported here (``make lint`` checks it). Each verb
writes, in the caller's transaction, what it changes, the notifications it causes
(inserted if absent, so a verb that runs twice tells nobody twice) and, when search must
see a change, the :class:`~exchange.models.IndexChange` entry. No verb commits: the view or
command that called it commits once (:func:`exchange.transactions.commit`), and the index
catches up after that commit.
"""

from .audit import (
    ACTIONS,
    COMMAND_LINE,
    actions_about_member,
    audit_log,
    record_admin_action,
    reports_about,
    suspension_reason,
)
from .dashboard import FIGURES, dashboard
from .departure import forget_member, scrub_names
from .digest import digest_key, queue_weekly_digests
from .follows import (
    Following,
    NewsItem,
    follow_member,
    follow_topic,
    following,
    follows_member,
    follows_topic,
    news_items,
    news_query,
    unfollow_member,
    unfollow_topic,
    whats_new,
)
from .impact import impact_of, public_thanks_count, standing_of
from .moderation import (
    REPORT_REASONS,
    dismiss_report,
    hide_resource,
    moderation_queue,
    reinstate_member,
    report,
    report_target,
    restore_resource,
    suspend_member,
    suspension_notice,
)
from .requests import (
    announce_answers,
    answer_problem,
    answer_request,
    answerable_request,
    ask_member,
    board,
    can_see_request,
    decline_request,
    fulfil_request,
    may_answer_problem,
    normalise_note,
    post_request,
    visible_answer_counts,
    visible_answers,
)
from .rules import Refused
from .thanks import Standing, may_thank, standing, thank, thanks_for, thanks_from
from .toolkit import toggle_saved, toolkit_of

__all__ = [
    "ACTIONS",
    "COMMAND_LINE",
    "forget_member",
    "scrub_names",
    "FIGURES",
    "actions_about_member",
    "audit_log",
    "record_admin_action",
    "reports_about",
    "dashboard",
    "suspension_notice",
    "suspension_reason",
    "Following",
    "NewsItem",
    "REPORT_REASONS",
    "Refused",
    "Standing",
    "announce_answers",
    "answer_problem",
    "answer_request",
    "answerable_request",
    "ask_member",
    "board",
    "can_see_request",
    "decline_request",
    "digest_key",
    "dismiss_report",
    "follow_member",
    "follow_topic",
    "following",
    "follows_member",
    "follows_topic",
    "fulfil_request",
    "hide_resource",
    "impact_of",
    "may_answer_problem",
    "may_thank",
    "moderation_queue",
    "news_items",
    "news_query",
    "normalise_note",
    "post_request",
    "public_thanks_count",
    "queue_weekly_digests",
    "reinstate_member",
    "report",
    "report_target",
    "restore_resource",
    "standing",
    "standing_of",
    "suspend_member",
    "thank",
    "thanks_for",
    "thanks_from",
    "toggle_saved",
    "toolkit_of",
    "unfollow_member",
    "unfollow_topic",
    "visible_answer_counts",
    "visible_answers",
    "whats_new",
]
