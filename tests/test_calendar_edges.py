"""Good Friday and Liberation Day: national holidays on which the school decides.

Both are entered as closed by default (the school's settings), in every year, and the
office sees on the school year's admin page what was entered and why.
"""

import datetime as dt

import pytest
from django.urls import reverse

from klimop import national_calendar, services
from klimop.models import NonSchoolDay

# --- Good Friday and Liberation Day: the school decides ------------------------------------------


@pytest.mark.django_db
def test_a_school_open_on_liberation_day_is_open_also_in_a_lustrum_year(school):
    school.closed_on_liberation_day = False
    school.save(update_fields=["closed_on_liberation_day"])
    services.school_year_create(actor=None, school=school, start_year=2024)
    # 5 May 2025 is a Monday after the May holiday, and a national holiday (every fifth year).
    assert not NonSchoolDay.objects.filter(school=school, date=dt.date(2025, 5, 5)).exists()


@pytest.mark.django_db
def test_by_default_good_friday_and_liberation_day_are_entered_as_closed(school):
    services.school_year_create(actor=None, school=school, start_year=2026)
    days = {d.date: d for d in NonSchoolDay.objects.filter(school=school)}
    assert days[dt.date(2027, 3, 26)].name == national_calendar.GOOD_FRIDAY
    assert days[dt.date(2027, 5, 5)].name == national_calendar.LIBERATION_DAY
    assert days[dt.date(2027, 5, 5)].kind == NonSchoolDay.Kind.PUBLIC_HOLIDAY


@pytest.mark.django_db
def test_the_office_sees_the_national_days_and_the_default_on_the_school_year_page(client, school, office):
    year = services.school_year_create(actor=None, school=school, start_year=2026)
    NonSchoolDay.objects.filter(school=school, date=dt.date(2027, 3, 26)).delete()  # open on Good Friday
    client.force_login(office.user)
    page = client.get(reverse("admin:klimop_schoolyear_change", args=[year.pk])).content.decode()
    assert "Nationale dagen waarover de school beslist" in page
    assert "Goede Vrijdag (vrijdag 26 maart 2027): open" in page
    assert "Bevrijdingsdag (woensdag 5 mei 2027): dicht" in page
    school_page = client.get(reverse("admin:klimop_school_change", args=[school.pk])).content.decode()
    assert "Elk jaar dicht op Goede Vrijdag" in school_page
    assert "Standaard: dicht, zoals op de meeste scholen." in school_page
