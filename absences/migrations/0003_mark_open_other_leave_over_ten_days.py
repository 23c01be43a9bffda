"""Open "other" leave requests over 10 school days go to the attendance officer too.

Until 0002 only "important circumstances" were marked; Leerplichtwet art. 14 lid 3 holds
for any leave but art. 13a. Requests still awaiting the director's decision are marked,
so the director forwards them; decided ones stay as they were decided.
"""

from django.db import migrations

LEAVE_MAX_SCHOOL_DAYS = 10  # absences.statutory.LEAVE_MAX_SCHOOL_DAYS, frozen here


def mark_open_requests(apps, schema_editor):
    LeaveRequest = apps.get_model("absences", "LeaveRequest")
    LeaveRequest.objects.filter(
        status="submitted", for_attendance_officer=False, school_days__gt=LEAVE_MAX_SCHOOL_DAYS,
    ).exclude(kind="vacation").update(for_attendance_officer=True)


class Migration(migrations.Migration):

    dependencies = [
        ("absences", "0002_leave_over_ten_days_any_kind"),
    ]

    operations = [
        migrations.RunPython(mark_open_requests, migrations.RunPython.noop),
    ]
