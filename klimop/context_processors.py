from . import access


def klimop(request):
    """What the base layout needs to pick the navigation."""
    user = getattr(request, "user", None)
    staff = access.staff_member_of(user)
    return {
        "is_staff_member": staff is not None,
        "staff_member": staff,
        "is_guardian": access.is_guardian(user),
        "is_school_manager": access.is_school_manager(user),
        # A person on the staff of two schools chooses the one they work in now.
        "staff_schools": [r.school for r in access.staff_records_of(user)],
    }
