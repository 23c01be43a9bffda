from . import access


def klimop(request):
    """What the base layout needs to pick the navigation."""
    user = getattr(request, "user", None)
    staff = access.staff_member_of(user)
    return {
        "is_staff_member": staff is not None,
        "staff_member": staff,
        "is_guardian": access.guardian_of(user) is not None,
        "is_school_manager": access.is_school_manager(user),
    }
