"""Forms of the Django admin for school managers: school settings, staff logins, CSV import.

The rules for a staff member's login (which account an e-mail address means, when
the import or the office may change it) live here once, for the admin form and for
the CSV import (``klimop.resources``).
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django import forms
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export.forms import ConfirmImportForm, ImportForm

from .models import School, StaffMember, User

# --- staff logins -------------------------------------------------------------------------

def staff_user_for(*, staff: StaffMember, email: str) -> User:
    """The login a staff member gets for this e-mail address: theirs, an existing one, or new.

    Returns an unsaved ``User`` for a new address (``staff_user_save`` saves it).
    Refuses an address that belongs to another staff member, and refuses to change
    the address of an account that has already signed in or is an administrator:
    the login address is how a password is reset, so changing it for someone else
    would hand over their account. They change it themselves.
    """
    email = email.strip().lower()
    other = User.objects.filter(email__iexact=email).first()
    current = staff.user if staff.user_id else None
    if current is not None and current.email.lower() == email:
        return current
    if current is not None:
        if other is not None:
            raise ValidationError(gettext("Another account already uses this e-mail address."))
        if current.is_superuser or current.last_login is not None:
            raise ValidationError(gettext(
                "%(name)s has already signed in; only they can change their e-mail address."
            ) % {"name": current.get_full_name() or current.email})
        current.email = email
        return current
    if other is not None:
        if StaffMember.objects.filter(user=other).exists():
            raise ValidationError(
                gettext("This e-mail address already belongs to another staff member.")
            )
        return other
    return User(email=email)


def staff_user_save(user: User) -> None:
    """Save a login from ``staff_user_for``. A new one gets no password until the invitation.

    A changed address drops the old, never-used allauth address rows, so the old
    address can no longer be used to sign in or reset the password.
    """
    if user.pk is None:
        user.set_unusable_password()
    else:
        EmailAddress.objects.filter(user=user).exclude(email__iexact=user.email).delete()
    user.save()


# --- one school per object ------------------------------------------------------------------

def _school_ids(value) -> set[int]:
    """The schools a form value belongs to (a school, an object with a school, or several)."""
    if isinstance(value, QuerySet | list | tuple | set):
        return set().union(*(_school_ids(v) for v in value)) if value else set()
    if isinstance(value, School):
        return {value.pk}
    if isinstance(value, Model) and getattr(value, "school_id", None) is not None:
        return {value.school_id}
    return set()


class SchoolScopedModelForm(forms.ModelForm):
    """Refuses an object that would tie together things of two schools.

    E.g. a group in one school with the school year of another, or a pupil in a
    group of another school. The admin limits each choice to the manager's schools
    already; this catches mixing between the schools an administrator sees.
    """

    def clean(self):
        cleaned = super().clean()
        schools = set().union(*(_school_ids(v) for v in cleaned.values()))
        if len(schools) > 1:
            raise ValidationError(
                _("These choices belong to different schools; choose them from one school."),
                code="several_schools",
            )
        return cleaned


# --- admin forms ------------------------------------------------------------------------------

class SchoolAdminForm(SchoolScopedModelForm):
    child_attends_years = forms.TypedMultipleChoiceField(
        label=_("year groups whose child attends conversations"),
        choices=[(year, year) for year in range(1, 9)],
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = School
        fields = "__all__"  # noqa: DJ007 (the admin's fieldsets choose the fields)

    def clean_child_attends_years(self) -> list[int]:
        return sorted(self.cleaned_data["child_attends_years"])


class StaffMemberAdminForm(SchoolScopedModelForm):
    """A staff member with their login details, instead of a list of every account."""

    email = forms.EmailField(label=_("e-mail address"))
    first_name = forms.CharField(label=_("first name"), max_length=150)
    last_name = forms.CharField(label=_("last name"), max_length=150)

    class Meta:
        model = StaffMember
        exclude = ["user"]  # noqa: DJ006 (every other field; the login is the three above)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.user_id:
            user = self.instance.user
            for name in ("email", "first_name", "last_name"):
                self.initial.setdefault(name, getattr(user, name))

    def clean_email(self) -> str:
        self._user = staff_user_for(staff=self.instance, email=self.cleaned_data["email"])
        return self._user.email

    def save(self, commit=True):
        # The login is saved even with commit=False: the staff row cannot exist
        # without it. The admin saves inside one transaction, so a refusal later
        # on rolls this back too.
        user = self._user
        user.first_name = self.cleaned_data["first_name"].strip()
        user.last_name = self.cleaned_data["last_name"].strip()
        staff_user_save(user)
        self.instance.user = user
        return super().save(commit)


class UserAdminCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("email",)
        field_classes: dict = {}

    def clean_email(self) -> str:
        # Addresses are stored in lower case (UserManager); one account per address.
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError(_("Another account already uses this e-mail address."))
        return email


class UserAdminChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"  # noqa: DJ007 (the admin's fieldsets choose the fields)
        field_classes: dict = {}


# --- CSV import: into which school ------------------------------------------------------------

class _SchoolChoiceMixin:
    """The school to import into: one of the schools the importing user manages.

    A director or the office manages one school, so the field is hidden and
    filled in; an administrator of several schools chooses.
    """

    def _init_school(self, schools: QuerySet[School]) -> None:
        field = forms.ModelChoiceField(
            queryset=schools, label=_("School"), required=False,
            help_text=_("The rows are imported into this school."),
        )
        self._only_school = schools.first() if schools.count() == 1 else None
        if self._only_school is not None:
            field.widget = forms.HiddenInput()
            field.initial = self._only_school.pk
        self.fields["school"] = field

    def clean_school(self) -> School:
        school = self.cleaned_data.get("school") or self._only_school
        if school is None:
            raise ValidationError(_("Choose the school to import into."), code="required")
        return school


class SchoolImportForm(_SchoolChoiceMixin, ImportForm):
    def __init__(self, formats, resources, *, schools: QuerySet[School], **kwargs):
        super().__init__(formats, resources, **kwargs)
        self._init_school(schools)


class SchoolConfirmImportForm(_SchoolChoiceMixin, ConfirmImportForm):
    def __init__(self, *args, schools: QuerySet[School], **kwargs):
        super().__init__(*args, **kwargs)
        self._init_school(schools)
        self.fields["school"].widget = forms.HiddenInput()


class ContactDetailsForm(forms.Form):
    """A guardian keeps their own e-mail address and phone number current."""

    email = forms.EmailField(label=_("E-mail address for the school"), max_length=254)
    phone = forms.RegexField(
        label=_("Phone number"), required=False, max_length=30,
        regex=r"^\+?[0-9][0-9 \-()]{5,28}$",
        error_messages={"invalid": _("Enter a phone number with digits only, e.g. 06-12345678.")},
        help_text=_("Only the school sees this. Other parents never do."),
    )
    notify_by_email = forms.BooleanField(
        label=_("Also send me notifications by e-mail"), required=False,
        help_text=_("New posts and answers always appear in Klimop."),
    )
