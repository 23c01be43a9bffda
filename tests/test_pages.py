"""The pages as each role sees them: what shows, what must never show, and how many queries.

Dutch is the default language, so the strings asserted here are Dutch unless a test
switches to English first.
"""

import datetime as dt
import json
import re

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from klimop.models import User
from klimop.worktime import AMSTERDAM
from tests import factories as f

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    """The page without its random CSRF tokens, so "not in" checks cannot hit them by chance."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


# --- parent home ------------------------------------------------------------------------


def test_parent_home_lists_child_and_teachers_in_dutch(client, parent, child, teacher, duo_teacher):
    client.force_login(parent.user)

    response = client.get(reverse("home"))

    assert response.status_code == 200
    html = _text(response)
    assert '<html lang="nl">' in html
    assert "Noor Testkind" in html
    assert "Groep 5a" in html
    assert teacher.user.get_full_name() in html
    assert duo_teacher.user.get_full_name() in html
    assert "Leerkrachten" in html
    assert "Uitloggen" in html
    # The duo teacher does not work on Monday: the day is marked as a day off.
    assert "niet aanwezig" in html
    # Full access: no "information only" badge; the parent can report the child sick.
    assert "Alleen informatie" not in html
    assert reverse("absences:report_sick") in html
    assert reverse("contact_details") in html  # in the account menu


def test_info_parent_sees_the_information_only_badge(client, info_parent, child, teacher):
    client.force_login(info_parent.user)

    html = _text(client.get(reverse("home")))

    assert "Noor Testkind" in html
    assert "Alleen informatie" in html


def test_barred_parent_sees_nothing_of_the_barred_child(client, barred_parent, barred_child, other_teacher):
    client.force_login(barred_parent.user)

    response = client.get(reverse("home"))

    assert response.status_code == 200
    html = _text(response)
    assert barred_child.first_name not in html
    assert barred_child.full_name not in html
    assert "6b" not in html
    assert other_teacher.user.get_full_name() not in html
    assert "Er zijn (nog) geen kinderen aan uw account gekoppeld." in html


def test_step_parent_without_access_sees_the_empty_state(client, step_parent, child, teacher):
    client.force_login(step_parent.user)

    html = _text(client.get(reverse("home")))

    assert "Er zijn (nog) geen kinderen aan uw account gekoppeld." in html
    assert "Neem contact op met de school." in html
    assert child.first_name not in html
    assert teacher.user.get_full_name() not in html


# --- staff dashboard ----------------------------------------------------------------------


def test_teacher_goes_from_home_to_the_dashboard(client, teacher):
    client.force_login(teacher.user)

    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"] == reverse("staff_dashboard")


def test_teacher_dashboard_shows_own_group_only(
    client, teacher, duo_teacher, child, barred_child, other_teacher
):
    client.force_login(teacher.user)

    response = client.get(reverse("staff_dashboard"))

    assert response.status_code == 200
    html = _text(response)
    assert "Groep 5a" in html
    assert child.first_name in html
    assert reverse("pupil_detail", args=[child.pk]) in html
    assert duo_teacher.user.get_full_name() in html
    assert "Groep 6b" not in html
    assert barred_child.first_name not in html
    assert reverse("pupil_detail", args=[barred_child.pk]) not in html


def test_director_dashboard_shows_every_group_and_the_admin_link(client, director, child, barred_child):
    client.force_login(director.user)

    html = _text(client.get(reverse("staff_dashboard")))

    assert "Groep 5a" in html
    assert "Groep 6b" in html
    assert barred_child.first_name in html
    assert reverse("admin:index") in html


def test_teacher_has_no_admin_link(client, teacher):
    client.force_login(teacher.user)

    html = _text(client.get(reverse("staff_dashboard")))

    assert reverse("admin:index") not in html
    assert reverse("mfa_index") in html
    assert reverse("contact_details") not in html


# --- pupil detail ----------------------------------------------------------------------


def test_pupil_detail_of_someone_elses_child_is_404(client, parent, barred_child):
    client.force_login(parent.user)

    response = client.get(reverse("pupil_detail", args=[barred_child.pk]))

    assert response.status_code == 404
    html = _text(response)
    assert barred_child.first_name not in html
    assert "Pagina niet gevonden" in html


def test_parent_never_sees_the_other_parents_contact_details(client, parent, divorced_parent, child):
    client.force_login(parent.user)

    response = client.get(reverse("pupil_detail", args=[child.pk]))

    assert response.status_code == 200
    html = _text(response)
    assert divorced_parent.full_name in html
    assert divorced_parent.email not in html
    assert divorced_parent.phone not in html


def test_teacher_sees_the_guardians_contact_details(client, teacher, child, parent, divorced_parent):
    client.force_login(teacher.user)

    html = _text(client.get(reverse("pupil_detail", args=[child.pk])))

    assert parent.email in html
    assert divorced_parent.email in html
    assert f"mailto:{parent.email}" in html


# --- language, login, sign-up, health -------------------------------------------------------


def test_language_switch_to_english_is_stored_on_the_user(client, parent, child, teacher):
    client.force_login(parent.user)

    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("home")})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    html = _text(client.get(reverse("home")))
    assert '<html lang="en">' in html
    assert "Teacher" in html
    assert "Log out" in html
    assert "Leerkracht" not in html
    parent.user.refresh_from_db()
    assert parent.user.language == "en"


def test_language_switch_ignores_foreign_next_urls(client, parent):
    client.force_login(parent.user)

    response = client.post(reverse("set_language"), {"language": "en", "next": "https://evil.example/"})

    assert response["Location"] == "/"


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_login_page_is_dutch_and_has_no_sign_up_link(client):
    response = client.get(reverse("account_login"))

    assert response.status_code == 200
    html = _text(response)
    assert "Log in met het e-mailadres waarmee de school u heeft uitgenodigd." in html
    assert "Wachtwoord vergeten?" in html
    assert reverse("account_reset_password") in html
    assert reverse("account_signup") not in html
    assert "Registreren" not in html
    assert "klimop.css" in html


def test_nobody_can_sign_up(client):
    page = client.get(reverse("account_signup"))
    assert page.status_code == 200
    assert 'name="password1"' not in _text(page)

    password = "a-long-passw0rd!"
    client.post(
        reverse("account_signup"),
        {"email": "stranger@example.test", "password1": password, "password2": password},
    )

    assert not User.objects.filter(email="stranger@example.test").exists()


def test_healthz_answers_json(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["status"] == "ok"


# --- account pages render inside the layout ----------------------------------------------


@pytest.mark.parametrize("url_name", ["account_reset_password", "account_signup"])
def test_entrance_pages_use_the_layout(client, url_name):
    html = _text(client.get(reverse(url_name)))

    assert "klimop.css" in html
    assert "entrance__card" in html


def test_logout_confirmation_and_two_factor_pages_use_the_layout(client, teacher):
    EmailAddress.objects.create(user=teacher.user, email=teacher.user.email, verified=True, primary=True)
    client.force_login(teacher.user)
    # allauth asks for the password again before two-factor is set up.
    assert client.get(reverse("mfa_activate_totp"))["Location"].startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": "test-password-123"})

    for url in (
        reverse("account_logout"),
        reverse("mfa_index"),
        reverse("mfa_activate_totp"),
        reverse("account_change_password"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        html = _text(response)
        assert "manage-card" in html, url
        assert "klimop.css" in html, url
    assert 'class="qr"' in _text(client.get(reverse("mfa_activate_totp")))


def test_password_reset_sends_a_working_link(client, parent):
    response = client.post(reverse("account_reset_password"), {"email": parent.user.email})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "/accounts/password/reset/key/" in message.body
    assert "Met vriendelijke groet" in message.body
    assert "Een nieuw wachtwoord voor Klimop" in message.subject
    link = next(line for line in message.body.splitlines() if "/password/reset/key/" in line)
    page = client.get(link.strip(), follow=True)
    assert page.status_code == 200
    html = _text(page)
    assert "Kies een wachtwoord" in html
    assert 'name="password1"' in html


def test_invitation_email_text(parent):
    body = render_to_string(
        "account/email/invitation.txt",
        {"user": parent.user, "url": "https://klimop.example/set/abc/", "school_name": "De Test"},
    )

    assert "https://klimop.example/set/abc/" in body
    assert "De Test" in body
    assert "wachtwoord" in body
    assert parent.user.email in body
    assert "&amp;" not in body


def test_error_pages_render_without_a_request():
    assert "Klimop" in render_to_string("500.html")
    assert "Klimop" in render_to_string("403_csrf.html")


# --- query counts ----------------------------------------------------------------------------


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


# session, user, guardian, staff record (none), relations with pupils/groups/schools, teachers,
# the unread-notification and unread-chat counts in the navigation, the latest posts,
# the absence card (children who may be reported, today's reports, the school's cutoff: 4),
# the planner card (current rounds: 1), the survey card (open surveys: 1).
HOME_MAX_QUERIES = 15
# With posts: their photos and attachments (prefetched) and one insert of read markers.
HOME_WITH_POSTS_MAX_QUERIES = HOME_MAX_QUERIES + 3
# session, user, staff record, guardian (none), the staff member's school, groups, pupils, teachers,
# the unread-notification and unread-chat counts, the post rhythm of the week, open parent messages,
# today's absences and follow-ups and open leave requests (7), the planner card (2).
DASHBOARD_MAX_QUERIES = 21


def test_home_query_count_does_not_grow_with_children(
    client, django_assert_max_num_queries, school, school_year
):
    guardian = f.GuardianFactory(user__email="many@example.test")
    client.force_login(guardian.user)
    counts = []
    for total in (2, 10):
        have = guardian.relations.count()
        for _ in range(total - have):
            group = f.GroupFactory(school_year=school_year)
            f.StaffMemberFactory(school=school, groups=[group])
            f.StaffMemberFactory(school=school, groups=[group], works_friday=False)
            f.GuardianRelationFactory(guardian=guardian, pupil=f.PupilFactory(group=group))
        counts.append(_count_queries(client, reverse("home")))
        with django_assert_max_num_queries(HOME_MAX_QUERIES):
            client.get(reverse("home"))

    assert counts[0] == counts[1], counts


def test_dashboard_query_count_does_not_grow_with_pupils(
    client, django_assert_max_num_queries, teacher, duo_teacher, group
):
    client.force_login(teacher.user)
    other = f.GroupFactory(school_year=group.school_year, name="5b")
    teacher.groups.add(other)
    counts = []
    for total in (2, 10):
        for g in (group, other):
            for _ in range(total - g.pupils.count()):
                pupil = f.PupilFactory(group=g)
                f.GuardianRelationFactory(pupil=pupil)
        counts.append(_count_queries(client, reverse("staff_dashboard")))
        with django_assert_max_num_queries(DASHBOARD_MAX_QUERIES):
            client.get(reverse("staff_dashboard"))

    assert counts[0] == counts[1], counts


def test_permission_denied_page_uses_the_layout(rf):
    from django.core.exceptions import PermissionDenied
    from django.views.defaults import permission_denied

    response = permission_denied(rf.get("/"), PermissionDenied())

    assert response.status_code == 403
    html = response.content.decode()
    assert "Geen toegang" in html
    assert "klimop.css" in html


def test_parents_do_not_see_barred_or_refused_guardians_of_their_child(client, parent, step_parent, child):
    barred = f.GuardianRelationFactory(
        pupil=child,
        guardian__user__email="barred2@example.test",
        guardian__last_name="Verbodsma",
        kind="parent",
        access="barred",
    )
    step_parent.last_name = "Stiefsma"
    step_parent.save()
    client.force_login(parent.user)
    page = _text(client.get(reverse("pupil_detail", args=[child.pk])))
    assert barred.guardian.last_name not in page
    assert step_parent.last_name not in page
    assert parent.last_name in page


def test_a_parent_without_visible_children_gets_the_schools_phone_in_a_one_school_deployment(
    client, step_parent, school
):
    client.force_login(step_parent.user)
    assert school.phone in client.get("/").content.decode()


@time_machine.travel(dt.datetime(2026, 11, 23, 10, 0, tzinfo=AMSTERDAM), tick=False)
def test_home_shows_the_latest_posts_in_a_fixed_number_of_queries(
    client, django_assert_max_num_queries, parent, teacher, group
):
    from communication.posts.models import Post, PostRead
    from communication.posts.services import post_create

    client.force_login(parent.user)
    counts = []
    for total in (1, 4):
        for i in range(total - Post.objects.count()):
            post_create(actor=teacher.user, group=group, title=f"Bericht {total}-{i}", body="Hallo")
        # Every visit starts with unread posts, so the read-marker insert is counted too.
        PostRead.objects.all().delete()
        with CaptureQueriesContext(connection) as queries:
            html = _text(client.get(reverse("home")))
        counts.append(len(queries))
        assert f"Bericht {total}-0" in html
        assert "Nieuwste berichten" in html
    assert counts[0] == counts[1] <= HOME_WITH_POSTS_MAX_QUERIES, counts


def test_the_portal_can_be_added_to_a_phones_home_screen(client, parent):
    """A web app manifest with icons (and Apple's touch icon): needed for push on iPhones."""
    import json

    from django.conf import settings
    from django.contrib.staticfiles import finders

    client.force_login(parent.user)
    html = client.get(reverse("home")).content.decode()
    assert f'<link rel="manifest" href="{settings.STATIC_URL}manifest.webmanifest">' in html
    assert "apple-touch-icon" in html
    manifest = json.loads(open(finders.find("manifest.webmanifest"), encoding="utf-8").read())  # noqa: SIM115
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/"
    for icon in manifest["icons"]:
        assert finders.find(icon["src"]), icon["src"]


def test_the_whole_school_dashboard_folds_each_groups_pupils(client, director, teacher, child):
    """The director sees every group on one page: pupil lists are folded; a teacher's are open."""
    client.force_login(director.user)
    whole_school = client.get(reverse("staff_dashboard")).content.decode()
    client.force_login(teacher.user)
    own_group = client.get(reverse("staff_dashboard")).content.decode()
    assert '<details class="group-card__fold">' in whole_school
    assert child.full_name in whole_school
    assert '<details class="group-card__fold">' not in own_group
    assert child.full_name in own_group
