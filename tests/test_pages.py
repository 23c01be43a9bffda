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

from klimop.models import GuardianRelation, User
from klimop.worktime import AMSTERDAM
from tests import factories as f
from tests.planner_times import WHILE_OPEN

pytest_plugins = ["tests.planner_cast"]

Kind, Access = GuardianRelation.Kind, GuardianRelation.Access

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
    """Not "no children linked yet", which is untrue: the school cannot inform them through
    Klimop, and its office is who to ask; no child, group, teacher or court order is named."""
    school = barred_child.school
    school.email = "administratie@testveld.example"
    school.save()
    client.force_login(barred_parent.user)

    response = client.get(reverse("home"))

    assert response.status_code == 200
    html = _text(response)
    assert barred_child.first_name not in html
    assert barred_child.full_name not in html
    assert "6b" not in html
    assert other_teacher.user.get_full_name() not in html
    assert "geen kinderen" not in html
    assert "De school kan u via Klimop geen informatie geven" in html
    assert "De administratie van Basisschool Het Testveld" in html
    assert 'href="tel:0100000000"' in html
    assert 'href="mailto:administratie@testveld.example"' in html
    assert "rechter" not in html.lower()
    assert 'class="quick-actions"' not in html


def test_step_parent_without_access_reads_that_the_custodial_parents_must_agree(
    client, step_parent, child, teacher
):
    client.force_login(step_parent.user)

    html = _text(client.get(reverse("home")))

    assert "geen kinderen" not in html
    assert "De school kan nog geen informatie met u delen" in html
    assert "zodra de ouders met gezag daarmee instemmen" in html
    assert 'href="tel:0100000000"' in html
    assert child.first_name not in html
    assert teacher.user.get_full_name() not in html


def test_a_step_parent_who_is_also_barred_elsewhere_reads_only_the_general_text(
    client, step_parent, barred_child
):
    f.GuardianRelationFactory(
        pupil=barred_child, guardian=step_parent, kind=Kind.PARENT_WITH_AUTHORITY, access=Access.BARRED
    )
    client.force_login(step_parent.user)

    html = _text(client.get(reverse("home")))

    assert "De school kan u via Klimop geen informatie geven" in html
    assert "ouders met gezag" not in html


def test_a_guardian_not_linked_to_a_child_yet_reads_so(client, school):
    guardian = f.GuardianFactory(user__email="nieuw@example.test")
    client.force_login(guardian.user)

    html = _text(client.get(reverse("home")))

    assert "Er zijn (nog) geen kinderen aan uw account gekoppeld." in html
    assert "Neem contact op met de school." in html


def test_the_office_is_named_only_in_a_portal_of_one_school(client, barred_parent, other_school):
    client.force_login(barred_parent.user)

    html = _text(client.get(reverse("home")))

    assert "De school kan u via Klimop geen informatie geven" in html
    assert "no-children__office" not in html
    assert "tel:" not in html


# --- quick actions on a parent's home -----------------------------------------------------


def _quick_actions(html: str) -> list[str]:
    return re.findall(r'class="quick-action quick-action--(\w+)"', html)


@time_machine.travel(WHILE_OPEN, tick=False)
def test_a_parent_with_gezag_reaches_absence_leave_the_planner_and_privacy_in_one_tap(
    client, parent, child, conversation_round
):
    client.force_login(parent.user)

    html = _text(client.get(reverse("home")))

    assert _quick_actions(html) == ["sick", "leave", "planner", "privacy"]
    assert '<nav class="quick-actions" aria-label="Snelle acties">' in html
    for text in ("Ziekmelden", "vóór 08:20", "Verlof", "Gesprekken plannen", "Rapportgesprek", "Privacy"):
        assert text in html
    for url in (
        "absences:report_sick",
        "absences:leave_create",
        "conversations:index",
        "privacy:privacy_home",
    ):
        assert f'href="{reverse(url)}"' in html


def test_quick_actions_follow_what_the_parent_may_do_and_the_school_offers(
    client, parent, info_parent, child, school
):
    """No planner tile without a current round; a parent with information right only has
    none at all; a school that takes sick reports and leave on paper offers neither."""
    client.force_login(parent.user)
    assert _quick_actions(_text(client.get(reverse("home")))) == ["sick", "leave", "privacy"]

    client.force_login(info_parent.user)
    html = _text(client.get(reverse("home")))
    assert "Noor" in html
    assert _quick_actions(html) == []
    assert 'class="quick-actions"' not in html

    from absences.models import AbsenceSettings

    AbsenceSettings.objects.create(
        school=school, sick_reports_via_portal=False, leave_requests_via_portal=False
    )
    client.force_login(parent.user)
    assert _quick_actions(_text(client.get(reverse("home")))) == ["privacy"]


def test_the_push_invitation_is_on_a_parents_home_only_where_push_is_set_up(client, parent, child, settings):
    settings.WEBPUSH_VAPID_PUBLIC_KEY, settings.WEBPUSH_VAPID_PRIVATE_KEY = "", ""
    client.force_login(parent.user)
    assert 'id="push-invite"' not in _text(client.get(reverse("home")))

    settings.WEBPUSH_VAPID_PUBLIC_KEY, settings.WEBPUSH_VAPID_PRIVATE_KEY = "BPublicKey", "private"
    html = _text(client.get(reverse("home")))
    # Hidden until push.js knows this browser may be asked; one script, no inline code.
    assert (
        '<section id="push-invite" class="card push-invite" aria-labelledby="push-invite-title" hidden'
        in html
    )
    assert 'data-public-key="BPublicKey"' in html
    assert "Mis geen bericht" in html
    assert "Zet op beginscherm" in html  # the iPhone's first step
    assert html.count("js/push.js") == 1


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
    assert barred_child.first_name not in html  # the pupils of a group come on demand
    group_page = _text(client.get(reverse("staff_dashboard"), {"groep": barred_child.group.pk}))
    assert barred_child.first_name in group_page
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


def test_password_reset_sends_a_working_link(client, parent, django_capture_on_commit_callbacks):
    # The mail goes out through the outbox after commit (tests/test_mail_outbox.py).
    with django_capture_on_commit_callbacks(execute=True):
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
# the planner card (current rounds: 1), the survey card (open surveys: 1), the quick actions
# (children the parent acts for with their schools' absence settings, the planner's current
# rounds, children whose photo consent they decide: 3).
HOME_MAX_QUERIES = 18
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
    """The director sees every group on one page as a summary (teachers, number of pupils); a
    group's pupils come on demand. A teacher sees their own groups' pupils at once."""
    group = child.group
    client.force_login(director.user)
    whole_school = client.get(reverse("staff_dashboard")).content.decode()
    on_demand = client.get(reverse("staff_dashboard"), {"groep": group.pk}).content.decode()
    fragment = client.get(reverse("staff_dashboard"), {"groep": group.pk}, headers={"HX-Request": "true"})
    client.force_login(teacher.user)
    own_group = client.get(reverse("staff_dashboard")).content.decode()

    assert f'<details class="group-card__fold" data-pupils-url="/staff/?groep={group.pk}">' in whole_school
    assert "1 leerling" in whole_school
    assert teacher.user.last_name in whole_school
    assert child.full_name not in whole_school
    # Without the page's script: the dashboard with this group's pupils shown.
    assert f'data-pupils-url="/staff/?groep={group.pk}" open>' in on_demand
    assert child.full_name in on_demand
    # With it: only the pupil list.
    assert fragment.content.decode().lstrip().startswith('<ul class="pupil-list">')
    assert child.full_name in fragment.content.decode()
    assert '<details class="group-card__fold"' not in own_group
    assert child.full_name in own_group


def test_the_whole_school_dashboard_opens_no_group_of_another_school(client, director, school_year):
    other = f.GroupFactory(school_year=f.SchoolYearFactory(school=f.SchoolFactory()))
    client.force_login(director.user)
    response = client.get(reverse("staff_dashboard"), {"groep": other.pk}, headers={"HX-Request": "true"})
    assert response.status_code == 404


# --- favicon ----------------------------------------------------------------------------


def test_the_favicon_is_served_and_linked_on_every_kind_of_page(client, admin_user, director, teacher, child):
    """/favicon.ico (browsers ask for it on pages without a link: the admin, a print page, a
    PDF), and an icon link in the portal's layout, the admin's and the print pages'."""
    from PIL import Image

    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    icon = Image.open(__import__("io").BytesIO(response.content))
    assert icon.format == "ICO"
    assert (32, 32) in icon.info["sizes"]

    link = '<link rel="icon" href="/favicon.ico" sizes="32x32">'
    assert link in client.get(reverse("account_login")).content.decode()
    client.force_login(teacher.user)
    assert link in client.get(reverse("staff_dashboard")).content.decode()
    assert link in client.get(reverse("absences:today_print")).content.decode()
    client.force_login(admin_user)
    for url in (reverse("admin:index"), reverse("admin:klimop_school_changelist")):
        page = client.get(url)
        assert page.status_code == 200, url
        assert link in page.content.decode(), url
