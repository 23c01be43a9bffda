"""Leave requests: the Leerplichtwet checks when a request is made, the director's decision (portal
notification, e-mail, objection clause), the admin, the statement upload, and the parent's pages.

School year 2026/2027 starts on Monday 31 August 2026 (conftest); the first two school weeks
run to Sunday 13 September.
"""

import datetime as dt
import io

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.urls import reverse
from django.utils import translation
from PIL import Image

from absences import selectors, services
from absences.models import AbsenceSettings, LeaveRequest
from klimop.models import NonSchoolDay
from klimop.notifications.models import Notification
from klimop.worktime import AMSTERDAM
from tests import factories as f

Kind = LeaveRequest.Kind
Status = LeaveRequest.Status
FIRST_WEEK = dt.datetime(2026, 9, 1, 10, 0, tzinfo=AMSTERDAM)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def now():
    with time_machine.travel(FIRST_WEEK, tick=False) as traveller:
        yield traveller


@pytest.fixture
def cast(
    teacher,
    duo_teacher,
    director,
    office,
    parent,
    divorced_parent,
    step_parent,
    barred_parent,
    child,
    barred_child,
):
    return None


@pytest.fixture
def sibling(parent, other_group):
    pupil = f.PupilFactory(group=other_group, first_name="Ties", last_name="Testkind")
    f.GuardianRelationFactory(pupil=pupil, guardian=parent)
    return pupil


def pdf(name="werkgeversverklaring.pdf"):
    return SimpleUploadedFile(
        name, b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", content_type="application/pdf"
    )


def statement():
    return services.leave_statement_process(pdf())


def request_leave(
    parent, pupils, kind=Kind.EXTRA_VACATION, first=dt.date(2027, 2, 1), last=dt.date(2027, 2, 5), **kwargs
):
    kwargs.setdefault("reason", "Vader werkt in de horeca; in de zomer geen vrij.")
    if kind == Kind.EXTRA_VACATION:
        kwargs.setdefault("statement", statement())
    return services.leave_request_create(
        actor=parent.user,
        pupils=pupils if isinstance(pupils, list) else [pupils],
        kind=kind,
        starts_on=first,
        ends_on=last,
        **kwargs,
    )


def holiday(school, first, last, name="Herfstvakantie"):
    day = first
    while day <= last:
        if day.weekday() < 5:
            NonSchoolDay.objects.create(
                school=school, date=day, kind=NonSchoolDay.Kind.SCHOOL_HOLIDAY, name=name
            )
        day += dt.timedelta(days=1)


class TestStatutoryRules:
    def test_a_week_of_extra_vacation_leave_with_a_statement_is_accepted(
        self, cast, now, parent, child, sibling
    ):
        leave = request_leave(parent, [child, sibling])
        assert (leave.status, leave.school_days, leave.warnings) == (Status.SUBMITTED, 5, [])
        assert set(leave.pupils.all()) == {child, sibling}
        assert leave.events.get().new_status == Status.SUBMITTED

    def test_extra_vacation_leave_only_once_per_school_year(self, cast, now, parent, child):
        request_leave(parent, child)
        with pytest.raises(ValidationError) as exc:
            request_leave(parent, child, first=dt.date(2027, 5, 10), last=dt.date(2027, 5, 12))
        assert "only once per school year, and Noor already has it" in exc.value.messages[0]

    def test_a_refused_request_does_not_use_up_the_once_per_year(self, cast, now, parent, director, child):
        first = request_leave(parent, child)
        services.leave_decide(
            actor=director.user,
            leave_request=first,
            decision=Status.REFUSED,
            reasons="Geen bewijs van seizoensgebonden beroep.",
        )
        assert request_leave(parent, child, first=dt.date(2027, 5, 10), last=dt.date(2027, 5, 12)).pk

    def test_extra_vacation_leave_is_at_most_ten_school_days(self, cast, now, parent, child):
        with pytest.raises(ValidationError) as exc:
            request_leave(parent, child, first=dt.date(2027, 3, 1), last=dt.date(2027, 3, 15))
        assert exc.value.messages == [
            "Extra vacation leave (art. 13a) is at most 10 school days; this period has 11."
        ]

    def test_extra_vacation_leave_is_never_in_the_first_two_school_weeks(self, cast, now, parent, child):
        with pytest.raises(ValidationError) as exc:
            request_leave(
                parent,
                child,
                first=dt.date(2026, 9, 10),
                last=dt.date(2026, 9, 11),
                explanation="Vlucht geboekt",
            )
        assert "not allowed in the first two school weeks" in exc.value.messages[0]
        third_week = request_leave(
            parent,
            child,
            first=dt.date(2026, 9, 14),
            last=dt.date(2026, 9, 15),
            explanation="De zaak is dan dicht.",
        )
        assert third_week.warnings == ["late"]

    def test_less_than_eight_weeks_ahead_is_warned_and_may_be_sent_with_an_explanation(
        self, cast, now, parent, child
    ):
        with pytest.raises(ValidationError) as exc:
            request_leave(parent, child, first=dt.date(2026, 10, 5), last=dt.date(2026, 10, 6))
        assert "less than 8 weeks" in exc.value.message_dict["explanation"][0]
        assert not LeaveRequest.objects.exists()
        leave = request_leave(
            parent,
            child,
            first=dt.date(2026, 10, 5),
            last=dt.date(2026, 10, 6),
            explanation="Het rooster van mijn werkgever kwam vorige week pas.",
        )
        assert leave.warnings == ["late"]

    def test_a_school_that_takes_leave_requests_on_paper_says_so(self, cast, now, parent, child, school):
        AbsenceSettings.objects.create(school=school, leave_requests_via_portal=False)
        with pytest.raises(ValidationError) as exc:
            request_leave(parent, child)
        assert "paper form" in exc.value.messages[0]
        assert not LeaveRequest.objects.exists()

    def test_no_employers_statement_is_warned(self, cast, now, parent, child):
        with pytest.raises(ValidationError) as exc:
            request_leave(parent, child, statement=None)
        assert "no employer's statement" in exc.value.message_dict["explanation"][0]
        leave = request_leave(parent, child, statement=None, explanation="Volgt per post.")
        assert (leave.warnings, leave.statement.name) == (["no_statement"], "")

    def test_important_circumstances_over_ten_school_days_go_to_the_attendance_officer(
        self, cast, now, parent, director, child, school
    ):
        AbsenceSettings.objects.create(school=school, attendance_officer="Leerplicht Gemeente Voorbeeld")
        leave = request_leave(
            parent,
            child,
            Kind.IMPORTANT,
            first=dt.date(2027, 3, 1),
            last=dt.date(2027, 3, 15),
            reason="Begrafenis in het buitenland",
        )
        assert leave.for_attendance_officer
        assert leave.school_days == 11
        with pytest.raises(ValidationError) as exc:
            services.leave_decide(
                actor=director.user, leave_request=leave, decision=Status.GRANTED, reasons="Akkoord"
            )
        assert "the attendance officer decides" in exc.value.message_dict["decision"][0]
        leave = services.leave_decide(
            actor=director.user,
            leave_request=leave,
            decision=Status.FORWARDED,
            reasons="Meer dan tien schooldagen.",
        )
        assert "Leerplicht Gemeente Voorbeeld" in services.objection_text(leave)

    def test_other_leave_over_ten_school_days_goes_to_the_attendance_officer_too(
        self, cast, now, parent, director, child
    ):
        # Leerplichtwet art. 14 lid 3: over 10 school days the attendance officer decides,
        # whatever kind the parent chose; only art. 13a has its own (hard) limit.
        leave = request_leave(
            parent,
            child,
            Kind.OTHER,
            first=dt.date(2027, 3, 1),
            last=dt.date(2027, 3, 15),
            reason="Familiebezoek in Suriname",
        )
        assert leave.for_attendance_officer
        with pytest.raises(ValidationError) as exc:
            services.leave_decide(
                actor=director.user, leave_request=leave, decision=Status.REFUSED, reasons="Nee"
            )
        assert "the attendance officer decides" in exc.value.message_dict["decision"][0]
        assert LeaveRequest.objects.get().status == Status.SUBMITTED

    @pytest.mark.parametrize("kind", [Kind.IMPORTANT, Kind.OTHER])
    def test_ten_school_days_of_any_kind_stay_with_the_director(self, cast, now, parent, child, kind):
        leave = request_leave(
            parent, child, kind, first=dt.date(2027, 3, 1), last=dt.date(2027, 3, 12), reason="Verhuizing"
        )
        assert (leave.school_days, leave.for_attendance_officer) == (10, False)

    def test_days_are_counted_in_school_days_across_a_holiday(self, cast, now, school, parent, child):
        holiday(school, dt.date(2026, 10, 19), dt.date(2026, 10, 23))
        leave = request_leave(
            parent,
            child,
            Kind.IMPORTANT,
            first=dt.date(2026, 10, 16),
            last=dt.date(2026, 10, 26),
            reason="Verhuizing",
        )
        assert leave.school_days == 2

    def test_a_period_without_school_days_needs_no_leave(self, cast, now, school, parent, child):
        holiday(school, dt.date(2026, 10, 19), dt.date(2026, 10, 23))
        with pytest.raises(ValidationError) as exc:
            request_leave(
                parent, child, Kind.IMPORTANT, first=dt.date(2026, 10, 17), last=dt.date(2026, 10, 25)
            )
        assert exc.value.messages == ["There are no school days in this period, so no leave is needed."]

    def test_a_request_overlapping_another_is_refused(self, cast, now, parent, divorced_parent, child):
        request_leave(parent, child, Kind.IMPORTANT, first=dt.date(2027, 2, 1), last=dt.date(2027, 2, 2))
        with pytest.raises(ValidationError) as exc:
            request_leave(
                divorced_parent, child, Kind.OTHER, first=dt.date(2027, 2, 2), last=dt.date(2027, 2, 3)
            )
        assert "Noor already has a leave request for" in exc.value.messages[0]

    def test_a_period_ending_before_it_starts_is_refused(self, cast, now, parent, child):
        with pytest.raises(ValidationError) as exc:
            request_leave(parent, child, Kind.OTHER, first=dt.date(2027, 2, 5), last=dt.date(2027, 2, 1))
        assert exc.value.message_dict["ends_on"] == ["The last day cannot be before the first day."]

    @pytest.mark.parametrize("who", ["step_parent", "barred_parent", "teacher"])
    def test_leave_for_a_child_one_may_not_act_for_is_not_found(self, cast, now, request, who, child):
        with pytest.raises(Http404):
            request_leave(request.getfixturevalue(who), child, Kind.OTHER)

    def test_a_double_submit_makes_one_request(self, cast, now, parent, child):
        key = "3f1c8a8e-6c1d-4c7e-9a44-1d1f0f5b2a10"
        first = request_leave(parent, child, submission=key)
        assert request_leave(parent, child, submission=key).pk == first.pk
        assert LeaveRequest.objects.count() == 1


class TestStatement:
    def test_a_file_that_only_claims_to_be_a_pdf_is_refused(self):
        with pytest.raises(ValidationError) as exc:
            services.leave_statement_process(SimpleUploadedFile("verklaring.pdf", b"MZ\x90\x00 nope"))
        assert exc.value.code == "not_a_statement"

    def test_a_photo_of_the_statement_is_re_encoded_without_metadata(self):
        out = io.BytesIO()
        Image.new("RGB", (800, 600), (250, 250, 250)).save(out, format="JPEG")
        result = services.leave_statement_process(SimpleUploadedFile("scan.jpg", out.getvalue()))
        assert (result.content_type, result.name) == ("image/jpeg", "scan.jpg")

    def test_an_oversized_pdf_is_refused_with_the_limit(self, monkeypatch):
        from klimop import media

        monkeypatch.setattr(media, "MAX_ATTACHMENT_BYTES", 1024)
        with pytest.raises(ValidationError) as exc:
            services.leave_statement_process(SimpleUploadedFile("groot.pdf", b"%PDF-1.4" + b"0" * 2048))
        assert exc.value.code == "too_large"


class TestDecision:
    def test_the_director_grants_with_reasons_and_the_parent_is_told_in_the_portal_and_by_email(
        self, cast, now, parent, director, child, django_capture_on_commit_callbacks
    ):
        leave = request_leave(parent, child)
        with django_capture_on_commit_callbacks(execute=True):
            services.leave_decide(
                actor=director.user,
                leave_request=leave,
                decision=Status.GRANTED,
                reasons="Werkgeversverklaring toont seizoenswerk aan.",
            )
        leave.refresh_from_db()
        assert (leave.status, leave.decided_by) == (Status.GRANTED, director.user)
        note = Notification.objects.get(user=parent.user, cause=f"leave-decision:{leave.pk}")
        # In the parent's own language (Dutch by default), in the portal and by e-mail.
        assert note.title == "Uw verlofaanvraag is toegekend"
        assert "Werkgeversverklaring toont seizoenswerk aan." in note.body
        assert "binnen zes weken" in note.body
        assert director.user.get_full_name() in note.body
        assert [m.to for m in mail.outbox if "verlofaanvraag" in m.subject] == [[parent.user.email]]
        assert [e.new_status for e in leave.events.all()] == [Status.SUBMITTED, Status.GRANTED]

    def test_a_decision_without_reasons_is_refused(self, cast, now, parent, director, child):
        leave = request_leave(parent, child)
        with pytest.raises(ValidationError) as exc:
            services.leave_decide(
                actor=director.user, leave_request=leave, decision=Status.REFUSED, reasons="  "
            )
        assert "must state them" in exc.value.message_dict["reasons"][0]

    @pytest.mark.parametrize("who", ["office", "teacher", "other_director"])
    def test_only_the_director_of_the_school_decides(self, cast, now, request, parent, child, who):
        leave = request_leave(parent, child)
        with pytest.raises(PermissionDenied):
            services.leave_decide(
                actor=request.getfixturevalue(who).user,
                leave_request=leave,
                decision=Status.GRANTED,
                reasons="ok",
            )

    def test_a_decided_request_cannot_be_decided_again_or_withdrawn(self, cast, now, parent, director, child):
        leave = request_leave(parent, child)
        services.leave_decide(actor=director.user, leave_request=leave, decision=Status.GRANTED, reasons="ok")
        with pytest.raises(ValidationError):
            services.leave_decide(
                actor=director.user, leave_request=leave, decision=Status.REFUSED, reasons="toch niet"
            )
        with pytest.raises(ValidationError):
            services.leave_request_withdraw(actor=parent.user, leave_request=leave)

    def test_the_director_is_notified_of_a_new_request_within_working_time(
        self, cast, parent, director, child
    ):
        with time_machine.travel(dt.datetime(2026, 9, 1, 21, 0, tzinfo=AMSTERDAM), tick=False):
            leave = request_leave(parent, child)
        note = Notification.objects.get(user=director.user, cause=f"leave-request:{leave.pk}")
        assert note.deliver_at == dt.datetime(2026, 9, 2, 8, 0, tzinfo=AMSTERDAM)


class TestAdmin:
    def test_the_director_sees_open_requests_of_the_school_oldest_first_with_the_familys_other_requests(
        self, cast, client, parent, director, child, other_director, other_group_elsewhere
    ):
        with time_machine.travel(FIRST_WEEK, tick=False):
            older = request_leave(
                parent,
                child,
                Kind.IMPORTANT,
                first=dt.date(2027, 1, 11),
                last=dt.date(2027, 1, 11),
                reason="Huwelijk oom",
            )
        with time_machine.travel(FIRST_WEEK + dt.timedelta(days=1), tick=False):
            newer = request_leave(parent, child)
        elsewhere = f.PupilFactory(group=other_group_elsewhere)
        relation = f.GuardianRelationFactory(pupil=elsewhere)
        with time_machine.travel(FIRST_WEEK, tick=False):
            theirs = request_leave(
                relation.guardian, elsewhere, Kind.OTHER, first=dt.date(2027, 1, 4), last=dt.date(2027, 1, 4)
            )
        client.force_login(director.user)
        url = reverse("admin:absences_leaverequest_changelist")
        assert client.get(url)["Location"].endswith("?status__exact=submitted")
        page = client.get(url + "?status__exact=submitted").content.decode()
        assert page.index(f"/{older.pk}/change/") < page.index(f"/{newer.pk}/change/")
        assert f"/{theirs.pk}/change/" not in page
        detail = client.get(reverse("admin:absences_leaverequest_change", args=[newer.pk])).content.decode()
        assert "11 jan" in detail.lower()  # the family's other request: its period, kind and status

    def test_the_admin_list_costs_the_same_for_more_requests(
        self, cast, client, now, director, django_assert_max_num_queries
    ):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        def add(n):
            for i in range(n):
                pupil = f.PupilFactory(group=director.school.groups.first())
                relation = f.GuardianRelationFactory(pupil=pupil)
                day = dt.date(2027, 2, 1) + dt.timedelta(days=7 * (LeaveRequest.objects.count() + i))
                request_leave(relation.guardian, pupil, Kind.OTHER, first=day, last=day)

        client.force_login(director.user)
        url = reverse("admin:absences_leaverequest_changelist") + "?status__exact=submitted"
        add(2)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        add(10)
        with django_assert_max_num_queries(len(ctx.captured_queries)):
            assert client.get(url).status_code == 200

    def test_the_director_decides_in_the_admin_and_an_empty_reason_is_refused(
        self, cast, client, now, parent, director, child
    ):
        leave = request_leave(parent, child)
        client.force_login(director.user)
        url = reverse("admin:absences_leaverequest_change", args=[leave.pk])
        response = client.post(url, {"decision": Status.REFUSED, "reasons": "", "_save": "1"})
        assert response.status_code == 200
        leave.refresh_from_db()
        assert leave.status == Status.SUBMITTED
        response = client.post(
            url, {"decision": Status.REFUSED, "reasons": "Geen seizoenswerk.", "_save": "1"}
        )
        assert response.status_code == 302
        leave.refresh_from_db()
        assert (leave.status, leave.decision_reasons) == (Status.REFUSED, "Geen seizoenswerk.")

    def test_the_office_sees_requests_but_cannot_decide(self, cast, client, now, parent, office, child):
        leave = request_leave(parent, child)
        client.force_login(office.user)
        url = reverse("admin:absences_leaverequest_change", args=[leave.pk])
        assert 'name="decision"' not in client.get(url).content.decode()
        client.post(url, {"decision": Status.GRANTED, "reasons": "ok", "_save": "1"})
        leave.refresh_from_db()
        assert leave.status == Status.SUBMITTED

    def test_another_schools_director_does_not_find_the_request(
        self, cast, client, now, parent, child, other_director
    ):
        leave = request_leave(parent, child)
        client.force_login(other_director.user)
        response = client.get(reverse("admin:absences_leaverequest_change", args=[leave.pk]))
        assert response.status_code in (302, 404)
        assert selectors.open_leave_requests_for(viewer=other_director.user) == []


class TestPages:
    def test_the_parent_requests_leave_and_follows_its_status(
        self, cast, client, now, parent, director, child
    ):
        client.force_login(parent.user)
        form = client.get(reverse("absences:leave_create")).content.decode()
        assert "Werkgeversverklaring" in form or "werkgever" in form
        response = client.post(
            reverse("absences:leave_create"),
            {
                "submission": "5b8f1d7e-1f0a-4a53-9e7d-2c1d0b9a7e61",
                "pupils": [child.pk],
                "kind": Kind.EXTRA_VACATION,
                "starts_on": "2027-02-01",
                "ends_on": "2027-02-05",
                "reason": "Seizoenswerk",
                "statement": pdf(),
            },
        )
        leave = LeaveRequest.objects.get()
        assert response["Location"] == reverse("absences:leave_detail", args=[leave.pk])
        detail = client.get(response["Location"]).content.decode()
        assert "Wacht op het besluit" in detail or "director" in detail.lower() or "directie" in detail
        services.leave_decide(
            actor=director.user, leave_request=leave, decision=Status.GRANTED, reasons="Akkoord."
        )
        detail = client.get(response["Location"]).content.decode()
        assert "Akkoord." in detail
        assert "zes weken" in detail
        printed = client.get(reverse("absences:leave_print", args=[leave.pk])).content.decode()
        assert "Akkoord." in printed
        assert "zes weken" in printed
        assert "data-print" in printed  # the print button (static/js/klimop.js)
        statement_file = client.get(reverse("absences:leave_statement", args=[leave.pk]))
        assert statement_file.status_code == 200
        assert statement_file["Content-Type"] == "application/pdf"

    def test_a_warning_keeps_the_attached_statement_so_nothing_is_lost(
        self, cast, client, now, parent, child
    ):
        client.force_login(parent.user)
        data = {
            "submission": "7c2e4f4a-1b7d-4c0e-8f5a-3a2b1c0d9e8f",
            "pupils": [child.pk],
            "kind": Kind.EXTRA_VACATION,
            "starts_on": "2026-10-05",
            "ends_on": "2026-10-06",
            "reason": "Seizoenswerk",
        }
        page = client.post(reverse("absences:leave_create"), {**data, "statement": pdf()})
        assert page.status_code == 200
        assert "werkgeversverklaring.pdf" in page.content.decode()
        response = client.post(
            reverse("absences:leave_create"), {**data, "explanation": "Rooster kwam laat."}
        )
        assert response.status_code == 302
        leave = LeaveRequest.objects.get()
        assert (leave.warnings, leave.statement_name) == (["late"], "werkgeversverklaring.pdf")

    def test_a_missing_reason_keeps_the_attached_statement_too(self, cast, client, now, parent, child):
        client.force_login(parent.user)
        data = {
            "submission": "9a2e4f4a-1b7d-4c0e-8f5a-3a2b1c0d9e8f",
            "pupils": [child.pk],
            "kind": Kind.EXTRA_VACATION,
            "starts_on": "2027-02-01",
            "ends_on": "2027-02-05",
        }
        page = client.post(reverse("absences:leave_create"), {**data, "statement": pdf()})
        assert "werkgeversverklaring.pdf" in page.content.decode()
        client.post(reverse("absences:leave_create"), {**data, "reason": "Seizoenswerk"})
        assert LeaveRequest.objects.get().statement_name == "werkgeversverklaring.pdf"

    def test_the_family_pages_take_few_queries(
        self, cast, client, now, parent, child, sibling, django_assert_max_num_queries
    ):
        for first in (dt.date(2027, 2, 1), dt.date(2027, 3, 1), dt.date(2027, 4, 5)):
            request_leave(parent, [child, sibling], Kind.OTHER, first=first, last=first)
        client.force_login(parent.user)
        with django_assert_max_num_queries(20):
            assert client.get(reverse("absences:leave_list")).status_code == 200
        with django_assert_max_num_queries(25):
            assert client.get(reverse("absences:overview")).status_code == 200

    def test_leave_for_someone_elses_child_is_not_found(self, cast, client, now, parent, barred_child):
        client.force_login(parent.user)
        response = client.post(
            reverse("absences:leave_create"),
            {
                "submission": "8d3f5a5b-2c8e-4d1f-9a6b-4b3c2d1e0f9a",
                "pupils": [barred_child.pk],
                "kind": Kind.OTHER,
                "starts_on": "2027-02-01",
                "ends_on": "2027-02-01",
                "reason": "x",
            },
        )
        assert response.status_code == 404

    def test_the_family_sees_its_requests_and_others_do_not(
        self, cast, client, now, parent, divorced_parent, barred_parent, child
    ):
        leave = request_leave(parent, child)
        client.force_login(divorced_parent.user)
        assert client.get(reverse("absences:leave_detail", args=[leave.pk])).status_code == 200
        client.force_login(barred_parent.user)
        assert client.get(reverse("absences:leave_detail", args=[leave.pk])).status_code == 404
        assert client.get(reverse("absences:leave_statement", args=[leave.pk])).status_code == 404

    def test_a_request_that_names_a_child_of_another_family_is_not_shown_to_that_parent(
        self, cast, client, now, parent, divorced_parent, child, sibling
    ):
        # Ties is the parent's child from another relationship: Noor's other parent has no right to him.
        leave = request_leave(parent, [child, sibling], Kind.OTHER)
        client.force_login(divorced_parent.user)
        assert client.get(reverse("absences:leave_detail", args=[leave.pk])).status_code == 404
        assert "Ties" not in client.get(reverse("absences:leave_list")).content.decode()

    def test_the_live_check_says_how_many_school_days_and_what_is_refused(
        self, cast, client, now, parent, child
    ):
        client.force_login(parent.user)
        answer = client.get(
            reverse("absences:leave_check"),
            {
                "pupils": [child.pk],
                "kind": Kind.EXTRA_VACATION,
                "starts_on": "2026-09-07",
                "ends_on": "2026-09-25",
            },
        ).json()
        assert answer["school_days"] == 15
        assert len(answer["errors"]) == 2
        assert len(answer["warnings"]) == 2
