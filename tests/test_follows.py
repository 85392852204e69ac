"""Following members and topics, "What's new", and the weekly digest.

A member follows a colleague or a topic with a button (a small form), sees their new
shares and the answers to their own requests on the home page, and may ask for a weekly
email of them: at most one a week however often the job runs, none when nothing is new.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta

from exchange import community
from exchange.extensions import db
from exchange.models import Member, utcnow

from .fixtures.exchange import make_admin, member_id, outbox_count, page, people, share_txt
from .fixtures.members import Visitor
from .test_notifications import send, smtp_inbox  # noqa: F401 - the fixture, reused
from .test_requests import _share_answering, post_request


def follow(visitor: Visitor, path: str, **form) -> str:
    """Press a follow or unfollow button; returns the page it leads back to."""
    response = visitor.client.post(path, data=form, follow_redirects=True)
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def news_titles(text: str, heading: str = "whats-new-heading") -> list[str]:
    """The titles listed under "What's new", in order."""
    section = text.split(f'id="{heading}"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<h3 class="card-title"><a href="/resources/\d+">([^<]+)</a>', section)


def test_following_and_unfollowing_a_member_and_a_topic(app):
    dale, ana = people(app, "Dale Briers", "Ana Asker")
    share_txt(dale, "Values card sort", tags="values")
    dale_id = member_id(app, dale)
    assert "Follow Dale Briers" in page(ana, f"/members/{dale_id}")

    shown = follow(ana, f"/members/{dale_id}/follow")
    assert "You follow Dale Briers" in shown and "Unfollow Dale Briers" in shown
    follow(ana, f"/members/{dale_id}/follow")  # twice: still one follow
    shown = follow(ana, "/topics/follow", tag="Values", next="/search?tag=values")
    assert "You follow the topic “values”" in shown and "Unfollow “values”" in shown

    mine = html.unescape(page(ana, "/account/exchange"))
    following = mine.split('id="following-heading"', 1)[1].split("</section>", 1)[0]
    assert following.count("Dale Briers") == 2  # the link and its button
    assert "Unfollow “values”" in following

    follow(ana, f"/members/{dale_id}/unfollow", next="/account/exchange")
    mine = follow(ana, "/topics/unfollow", tag="values", next="/account/exchange")
    assert "Nobody and no topic yet" in mine
    with app.app_context():
        ana_row = db.session.get(Member, member_id(app, ana))
        assert not community.following(ana_row)


def test_following_is_refused_kindly_for_oneself_unknown_topics_and_visitors(app):
    (dale,) = people(app, "Dale Briers")
    dale_id = member_id(app, dale)
    assert "That’s you" in follow(dale, f"/members/{dale_id}/follow")
    assert "Nothing has been shared under that topic yet" in follow(
        dale, "/topics/follow", tag="no such topic"
    )
    visitor = Visitor(app.test_client())
    response = visitor.client.post(f"/members/{dale_id}/follow")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "Follow Dale Briers" not in page(visitor, f"/members/{dale_id}")


def test_whats_new_lists_only_what_the_member_may_see_from_what_they_follow(app):
    dale, carol, ana, admin = people(app, "Dale Briers", "Carol Giver", "Ana Asker", "Admin")
    make_admin(app, admin)
    follow(ana, f"/members/{member_id(app, dale)}/follow")
    share_txt(carol, "Carol's values sheet", tags="values")  # the topic is known once shared
    follow(ana, "/topics/follow", tag="values")
    request_id = post_request(ana, "Interview practice cards")

    share_txt(dale, "Dale credited", tags="budgets")
    share_txt(dale, "Dale anonymous", tags="budgets", credit_name="")
    share_txt(dale, "Dale members only", tags="budgets", visibility="members")
    hidden = share_txt(carol, "Carol hidden values", tags="values")
    share_txt(carol, "Carol unrelated", tags="budgets")
    _share_answering(carol, request_id, "Carol's answer")
    share_txt(ana, "Ana's own values", tags="values")
    assert (
        admin.client.post(f"/admin/resources/{hidden}/hide", data={"note": "Spam."}).status_code
        == 302
    )

    home = html.unescape(page(ana, "/"))
    assert news_titles(home) == [
        "Carol's answer",
        "Dale members only",
        "Dale credited",
        "Carol's values sheet",
    ]
    assert "Answers your request “Interview practice cards”" in home
    assert "You follow Dale Briers" in home and "Topic you follow: values" in home
    assert "More of what’s new" not in home  # four items: all of them are on the home page
    everything = html.unescape(page(ana, "/whats-new"))
    assert news_titles(everything, "main") == news_titles(home)
    assert 'id="whats-new-heading"' not in page(Visitor(app.test_client()), "/")


def test_the_weekly_digest_is_sent_once_a_week_and_only_to_those_who_asked(
    make_app,
    smtp_inbox,  # noqa: F811 - the fixture imported above
):
    inbox, url = smtp_inbox
    app = make_app()
    dale, ana, bob, carol = people(app, "Dale Briers", "Ana Asker", "Bob Quiet", "Carol Idle")
    send(app)  # the confirmation links, written to the log: only digests are left
    app.config["SMTP_URL"] = url
    dale_id = member_id(app, dale)
    for reader in (ana, bob):
        follow(reader, f"/members/{dale_id}/follow")
    for reader in (ana, carol):  # Carol asks for digests but follows nothing
        account = follow(reader, "/account/digest", weekly_digest="y")
        assert "You’ll get a weekly digest" in account
        assert re.search(r'id="weekly_digest"[^>]*checked|checked[^>]*id="weekly_digest"', account)
    resource_id = share_txt(dale, "Dale's goal ladder")

    runner = app.test_cli_runner()
    first = runner.invoke(args=["send-digests"])
    second = runner.invoke(args=["send-digests"])
    assert first.exit_code == 0 and "1 new digest. Sent 1" in first.output, first.output
    assert second.exit_code == 0 and "0 new digests. Sent 0" in second.output
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert "To: " + ana.email in message and "Subject: Toolkit Exchange: 1 new resource" in message
    assert "Dale's goal ladder, by Dale Briers" in message
    assert f"http://localhost/resources/{resource_id}" in message
    assert outbox_count(app) == 1

    with app.app_context():  # next week: nothing new since this digest, so no email
        assert community.queue_weekly_digests(utcnow() + timedelta(days=7)) == []
