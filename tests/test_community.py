"""Thanks, the toolkit, a giver's impact, the exchange page, and every page for everyone."""

from __future__ import annotations

import html
import re

from sqlalchemy import func, select

from exchange.extensions import db
from exchange.models import Member, Notification, OutboxEmail, Thanks

from .fixtures.exchange import (
    make_admin,
    member_id,
    notifications_for,
    page,
    people,
    set_profile,
    share_txt,
    take,
)
from .fixtures.members import Visitor


def thank(visitor: Visitor, resource_id: int, note: str):
    return visitor.client.post(f"/resources/{resource_id}/thanks", data={"note": note})


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# -- thanks ------------------------------------------------------------------------------


def test_takers_thank_the_giver_and_thanks_show_newest_first(app):
    giver, first, second = people(app, "Dale Briers", "Ana Taker", "Olu Taker")
    resource_id = share_txt(giver, "Values card sort")
    for taker in (first, second):
        take(app, taker, resource_id)
    assert (
        thank(first, resource_id, "Used it with a career changer; eye-opening.").status_code == 302
    )
    assert thank(second, resource_id, "Great warm-up for my group of six.").status_code == 302
    text = html.unescape(page(Visitor(app.test_client()), f"/resources/{resource_id}"))
    assert "Thanks from colleagues (2)" in text
    assert text.index("Great warm-up for my group of six.") < text.index("eye-opening")
    assert "Olu Taker" in text and "Ana Taker" in text


def test_a_member_who_has_not_taken_it_is_told_to_download_first(app):
    giver, stranger = people(app, "Dale Briers", "Sam Stranger")
    resource_id = share_txt(giver, "Values card sort")
    text = page(stranger, f"/resources/{resource_id}")
    assert "Once you’ve downloaded it, you can tell the giver" in html.unescape(text)
    assert "Send thanks" not in text
    response = thank(stranger, resource_id, "I never used it but thanks anyway.")
    assert response.status_code == 403
    assert "Download it first" in response.get_data(as_text=True)
    assert thank(giver, resource_id, "Thanking myself for this one.").status_code == 403
    assert count(app, Thanks) == 0


def test_thanks_are_one_per_member_editable_and_notify_the_giver_once(app):
    giver, taker = people(app, "Dale Briers", "Ana Taker")
    resource_id = share_txt(giver, "Values card sort")
    take(app, taker, resource_id)
    thank(taker, resource_id, "Used it with one client.")
    form = page(taker, f"/resources/{resource_id}")
    assert "Change your thanks" in form and "Used it with one client." in form
    thank(taker, resource_id, "Used it with one client, then with my whole group.")
    assert count(app, Thanks) == 1
    text = page(taker, f"/resources/{resource_id}")
    assert "then with my whole group" in text and "Thanks from colleagues (1)" in text
    [notice] = notifications_for(app, giver)
    assert notice.kind == "thanks"
    assert notice.message.startswith("Ana Taker thanked you for “Values card sort”")


def thanks_emails(app, giver: Visitor) -> list[OutboxEmail]:
    with app.app_context():
        query = select(OutboxEmail).where(
            OutboxEmail.to_address == giver.email, OutboxEmail.key.startswith("email:thanks")
        )
        return list(db.session.scalars(query))


def test_thanking_again_updates_the_note_and_the_givers_notice_and_says_so(app):
    giver, taker = people(app, "Dale Briers", "Ana Taker")
    resource_id = share_txt(giver, "Values card sort")
    take(app, taker, resource_id)
    thank(taker, resource_id, "Used it with one client.")
    page(giver, "/notifications")  # the giver has read the first notice
    response = taker.client.post(
        f"/resources/{resource_id}/thanks",
        data={"note": "Used it with my whole group on Tuesday."},
        follow_redirects=True,
    )
    text = html.unescape(response.get_data(as_text=True))
    assert "You’d already thanked the giver for “Values card sort”" in text
    assert "your note is updated" in text
    [notice] = notifications_for(app, giver)
    assert "whole group on Tuesday" in notice.message and "one client" not in notice.message
    assert notice.read_at is None  # shown to the giver again, with the new words
    [email] = thanks_emails(app, giver)  # not sent yet: it now quotes the new note
    assert "whole group on Tuesday" in email.body and "one client" not in email.body


def test_a_thanks_email_already_sent_is_not_sent_again_when_the_note_changes(app):
    giver, taker = people(app, "Dale Briers", "Ana Taker")
    resource_id = share_txt(giver, "Values card sort")
    take(app, taker, resource_id)
    thank(taker, resource_id, "Used it with one client.")
    assert app.test_cli_runner().invoke(args=["send-emails"]).exit_code == 0
    thank(taker, resource_id, "Used it with my whole group on Tuesday.")
    assert [e.status for e in thanks_emails(app, giver)] == [OutboxEmail.SENT]
    [notice] = notifications_for(app, giver)
    assert "whole group on Tuesday" in notice.message


def test_a_thanks_too_short_is_shown_again_with_the_problem_named(app):
    giver, taker = people(app, "Dale Briers", "Ana Taker")
    resource_id = share_txt(giver)
    take(app, taker, resource_id)
    response = thank(taker, resource_id, "Nice")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Please write between 10 and 1000 characters." in text
    assert re.search(r">\s*Nice</textarea>", text)


# -- toolkit -----------------------------------------------------------------------------


def test_save_to_my_toolkit_toggles_and_lists_saved_resources(app):
    giver, member = people(app, "Dale Briers", "Ana Member")
    kept = share_txt(giver, "Budget planner")
    share_txt(giver, "Not saved sheet")
    assert "Nothing saved yet" in page(member, "/toolkit")
    response = member.client.post(f"/resources/{kept}/save")
    assert response.status_code == 302 and response.headers["Location"] == f"/resources/{kept}"
    text = page(member, f"/resources/{kept}")
    assert 'aria-pressed="true"' in text and "Saved to my toolkit" in text
    toolkit = page(member, "/toolkit")
    assert "Budget planner" in toolkit and "Not saved sheet" not in toolkit
    member.client.post(f"/resources/{kept}/save", data={"next": "/toolkit"})
    assert "Budget planner" not in page(member, "/toolkit")
    assert member.client.get(f"/resources/{kept}/save").status_code == 405


def test_the_toolkit_is_private_to_each_member(app):
    giver, ana, olu = people(app, "Dale Briers", "Ana Member", "Olu Member")
    resource_id = share_txt(giver, "Budget planner")
    ana.client.post(f"/resources/{resource_id}/save")
    assert "Budget planner" not in page(olu, "/toolkit")
    response = Visitor(app.test_client()).client.get("/toolkit")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# -- impact ------------------------------------------------------------------------------


def test_the_impact_page_counts_unique_members_downloads_regions_and_thanks(app):
    giver, leeds, lyon = people(app, "Dale Briers", "Ana Leeds", "Luc Lyon")
    set_profile(app, leeds, region="Leeds, UK")
    set_profile(app, lyon, region="Lyon, France")
    resource_id = share_txt(giver, "Values card sort")
    for _ in range(3):
        take(app, leeds, resource_id)
    take(app, lyon, resource_id)
    thank(lyon, resource_id, "Translated it for my French clients.")
    text = html.unescape(page(giver, f"/members/{member_id(app, giver)}/impact"))
    assert "<strong>2</strong> colleagues took them" in text
    assert "<strong>2</strong> downloads by colleagues" in text  # Leeds's repeats count once
    assert '<td class="num">2</td><td class="num">4</td>' in text  # file downloads, labelled
    assert "<strong>1</strong> thank-you" in text
    assert re.search(r"Leeds, UK</th><td class=\"num\">1<", text)
    assert re.search(r"Lyon, France</th><td class=\"num\">1<", text)
    assert "Translated it for my French clients." in text
    # The chart: an accessible SVG with a table of the same numbers.
    assert '<svg class="chart"' in text and 'role="img"' in text
    this_month = re.findall(r"<tr><th scope=\"row\">([A-Z][a-z]{2} \d{4})</th>", text)[-1]
    assert f'<tr><th scope="row">{this_month}</th><td class="num">2</td></tr>' in text
    assert text.count('class="chart-bar"') == 12


def test_anonymous_gifts_count_privately_but_never_name_the_giver_in_public(app):
    giver, taker = people(app, "Dale Briers", "Ana Taker")
    named = share_txt(giver, "Named worksheet")
    hidden_name = share_txt(giver, "Anonymous worksheet", credit_name="")
    for resource_id in (named, hidden_name):
        take(app, taker, resource_id)
        thank(taker, resource_id, f"Thanks for sheet {resource_id}, it helped.")
    public = page(taker, f"/members/{member_id(app, giver)}")
    assert "Named worksheet" in public and "Anonymous worksheet" not in public
    assert "<strong>1</strong> download by colleagues" in public
    assert "<strong>1</strong> thank-you" in public
    resource_page = page(taker, f"/resources/{hidden_name}")
    assert "Shared anonymously" in resource_page and "Dale Briers" not in resource_page
    private = html.unescape(page(giver, f"/members/{member_id(app, giver)}/impact"))
    assert "Anonymous worksheet" in private and "Named worksheet" in private
    assert "<strong>2</strong> downloads by colleagues (1 on the public page" in private
    assert "<strong>2</strong> thank-yous" in private


def test_only_the_giver_and_admins_see_the_impact_page(app):
    giver, other, admin = people(app, "Dale Briers", "Olu Other", "Ada Admin")
    make_admin(app, admin)
    url = f"/members/{member_id(app, giver)}/impact"
    response = other.client.get(url)
    assert response.status_code == 403
    text = html.unescape(response.get_data(as_text=True))
    assert "Only Dale Briers can see the full impact" in text
    assert "See Dale Briers’s public page" in text
    assert "The impact of Dale Briers’s gifts" in html.unescape(page(admin, url))
    assert "See the impact of my gifts" in page(giver, f"/members/{member_id(app, giver)}")


# -- my exchange ---------------------------------------------------------------------------


def test_the_exchange_page_shows_what_i_shared_took_and_may_take(app):
    giver, taker = people(app, "Dale Briers", "Ana Taker")
    mine = share_txt(taker, "My own budget sheet")
    theirs = share_txt(giver, "Values card sort")
    take(app, giver, mine)
    take(app, taker, theirs)
    thank(giver, mine, "Used it in a money-worries session.")
    text = html.unescape(page(taker, "/account/exchange"))
    assert "The whole toolkit is open to you" in text
    shared = text[text.index("What I’ve shared") : text.index("What I’ve taken")]
    assert "My own budget sheet" in shared
    assert re.search(
        r'<td class="num">1</td>\s*<td class="num"><a href="[^"]+#thanks">1</a>', shared
    )
    taken = text[text.index("What I’ve taken") : text.index("Requests to me")]
    assert "Values card sort" in taken and "Thank the giver" in taken
    assert 'href="/account/exchange"' in page(taker, "/account")


def test_email_notifications_can_be_switched_off(app):
    [member] = people(app, "Ana Member")
    checked = re.compile(r'<input[^>]*\bchecked\b[^>]*name="email_notifications"')
    assert checked.search(page(member, "/account/exchange"))
    response = member.client.post("/account/exchange", data={"settings": "1"})
    assert response.status_code == 302
    assert not checked.search(page(member, "/account/exchange"))
    with app.app_context():
        assert db.session.get(Member, member_id(app, member)).email_notifications is False
    member.client.post("/account/exchange", data={"email_notifications": "y"})
    assert checked.search(page(member, "/account/exchange"))


# -- every page, for a newcomer and for a long-time giver ------------------------------------


def test_every_page_renders_for_a_new_member_and_a_long_time_giver(app):
    veteran, newcomer, asker = people(app, "Dale Briers", "Sam Newcomer", "Ana Asker")
    set_profile(app, veteran, region="Leeds, UK", organisation="Careers Co")
    gifts = [share_txt(veteran, f"Gift {n}") for n in range(3)]
    anonymous = share_txt(veteran, "Quiet gift", credit_name="")
    asker_own = share_txt(asker, "Ana’s sheet")
    for resource_id in (*gifts, anonymous):
        take(app, asker, resource_id)
        thank(asker, resource_id, "This worked well with my Tuesday group.")
    take(app, veteran, asker_own)
    veteran.client.post(f"/resources/{asker_own}/save")
    board = asker.client.post(
        "/requests/new",
        data={"title": "Card sorts", "body": "Card sorts about values for my returners’ group."},
    )
    request_id = board.headers["Location"].rsplit("/", 1)[1]
    veteran.client.post(f"/requests/{request_id}/answer", data={"resource": str(gifts[0])})
    note = "I coach returners in Leeds and your gift sheets were the best I’ve used with them."
    ask_response = asker.client.post(
        f"/members/{member_id(app, veteran)}/ask", data={"title": "More sheets", "note": note}
    )
    ask_id = ask_response.headers["Location"].rsplit("/", 1)[1]
    for visitor in (newcomer, veteran):
        me = member_id(app, visitor)
        urls = [
            "/",
            "/resources",
            "/search?q=gift",
            "/resources/new",
            f"/resources/new?answers={request_id}",
            f"/resources/{gifts[0]}",
            f"/resources/{anonymous}",
            f"/resources/{asker_own}",
            f"/resources/{gifts[1]}/report",
            f"/members/{member_id(app, asker)}",
            f"/members/{member_id(app, asker)}/ask",
            f"/members/{member_id(app, asker)}/report",
            f"/members/{me}",
            f"/members/{me}/impact",
            "/requests",
            "/requests?status=fulfilled",
            "/requests/new",
            f"/requests/{request_id}",
            "/toolkit",
            "/notifications",
            "/account",
            "/account/exchange",
            "/account/password",
        ]
        for url in urls:
            text = page(visitor, url)
            assert "Notifications" in text and "My toolkit" in text, url
    veteran_view = html.unescape(page(veteran, f"/requests/{ask_id}"))
    assert "Decline politely" in veteran_view
    veteran_home = page(veteran, "/notifications")
    assert 'class="count-badge"' in page(veteran, "/")
    assert "sent you a request" in veteran_home and "thanked you" in veteran_home
    with app.app_context():
        assert db.session.scalar(select(func.count(Notification.id))) >= 6
