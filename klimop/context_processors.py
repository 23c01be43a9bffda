from django.utils.functional import SimpleLazyObject

from . import access


def klimop(request):
    """What the base layout needs to pick the navigation.

    Each value is read when a template first uses it (the records are read once per request,
    ``access`` keeps them on the user): a fragment answered to the page's script (a refused
    booking, a poll) renders no navigation and reads nothing for it."""
    user = getattr(request, "user", None)
    return {
        "is_staff_member": SimpleLazyObject(lambda: access.staff_member_of(user) is not None),
        "staff_member": SimpleLazyObject(lambda: access.staff_member_of(user)),
        "is_guardian": SimpleLazyObject(lambda: access.is_guardian(user)),
        "is_school_manager": SimpleLazyObject(lambda: access.is_school_manager(user)),
        # A person on the staff of two schools chooses the one they work in now.
        "staff_schools": SimpleLazyObject(lambda: [r.school for r in access.staff_records_of(user)]),
    }
