"""Forms of the Django admin for school managers: one school per object, staff logins, CSV import.

The rules for a staff member's login (which account an e-mail address means, when
the import or the office may change it) live here once, for the admin form and for
the CSV import (``klimop.resources``).
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django import forms
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db.models import Model, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export.forms import ConfirmImportForm, ImportForm

from . import access
from .models import School, StaffMember, User
from .text import StripBidiMixin

# --- staff logins -------------------------------------------------------------------------


def staff_user_for(
    *, actor, staff: StaffMember, school: School, email: str, first_name: str, last_name: str
) -> User:
    """The login a staff member gets for this e-mail address: theirs, an existing one, or new.

    A login belongs to its owner (``access.may_manage_login``): the manager's
    name and address are applied only to a login the manager may still prepare
    (new, never signed in, known only to the manager's schools). Otherwise:

    - an unchanged address keeps the login; a changed name is refused, the
      person keeps their own name current;
    - a changed address is refused: the address is where a password reset goes;
    - a new staff member with the address of an existing login is linked to it
      (one person, one login: a parent who also works at the school, a teacher
      who also works at another school of the board), without touching its name
      or password; ``staff_user_save`` tells the person.

    ``actor=None`` is the system (a management command), which may prepare any
    login that has not signed in; the admin and the import always pass the manager.
    Returns the login, unsaved when new (``staff_user_save`` saves it).
    Raises ``ValidationError`` keyed by form field.
    """
    email = email.strip().lower()
    first_name, last_name = first_name.strip(), last_name.strip()
    other = User.objects.filter(email__iexact=email).first()
    current = staff.user if staff.user_id else None
    if current is not None and current.pk == getattr(other, "pk", None):
        other = None
    if current is not None:
        manageable = _may_manage(actor, current, school)
        if current.email.lower() != email:
            if not manageable:
                raise ValidationError(
                    {
                        "email": gettext(
                            "%(name)s's login is theirs: only they can change its e-mail address "
                            "(in Klimop, under their account)."
                        )
                        % {"name": current.get_full_name() or current.email}
                    }
                )
            if other is not None:
                raise ValidationError({"email": gettext("Another account already uses this e-mail address.")})
            current.email = email
        if (current.first_name, current.last_name) != (first_name, last_name):
            if not manageable:
                raise ValidationError(
                    {
                        "first_name": gettext(
                            "%(name)s keeps their own name up to date; it cannot be changed here."
                        )
                        % {"name": current.get_full_name() or current.email}
                    }
                )
            current.first_name, current.last_name = first_name, last_name
        return current
    if other is None:
        return User(email=email, first_name=first_name, last_name=last_name)
    if StaffMember.objects.filter(user=other, school=school).exists():
        raise ValidationError(
            {"email": gettext("This e-mail address already belongs to another staff member.")}
        )
    if other.is_superuser and not getattr(actor, "is_superuser", False):
        raise ValidationError({"email": gettext("This e-mail address belongs to an administrator's login.")})
    if _may_manage(actor, other, school):
        other.first_name, other.last_name = first_name, last_name
    other._klimop_linked = True  # type: ignore[attr-defined]  (staff_user_save tells them)
    return other


def _may_manage(actor, user: User, school: School) -> bool:
    if actor is None:  # the system, for this school: as its manager would be
        return user.pk is None or (
            user.last_login is None and not user.is_superuser and access.login_school_ids(user) <= {school.pk}
        )
    return access.may_manage_login(actor, user)


def staff_user_save(user: User, *, school: School, role: str) -> None:
    """Save a login from ``staff_user_for``. A new one gets no password until the invitation.

    A changed address drops the old, never-used allauth address rows, so the old
    address can no longer be used to sign in or reset the password. A login that
    existed already and now also has a staff record is told so by e-mail.
    """
    if user.pk is None:
        user.set_unusable_password()
    else:
        EmailAddress.objects.filter(user=user).exclude(email__iexact=user.email).delete()
    user.save()
    if getattr(user, "_klimop_linked", False):
        from .services import login_added_notify

        login_added_notify(user=user, school=school, as_what=role)


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


class SchoolScopedModelForm(StripBidiMixin, forms.ModelForm):
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


class StaffMemberAdminForm(SchoolScopedModelForm):
    """A staff member with their login details, instead of a list of every account.

    The admin sets ``actor`` (the manager) on the form class. A login the manager
    may no longer prepare (``access.may_manage_login``) shows its name and address
    read-only: they are the person's own.
    """

    actor = None

    email = forms.EmailField(label=_("E-mail address"))
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)

    class Meta:
        model = StaffMember
        exclude = ["user"]  # noqa: DJ006 (every other field; the login is the three above)

    def __init__(self, *args, **kwargs):
        if self.actor is None:
            raise ImproperlyConfigured("StaffMemberAdminForm needs the acting manager as actor.")
        super().__init__(*args, **kwargs)
        if self.instance.user_id:
            user = self.instance.user
            for name in ("email", "first_name", "last_name"):
                self.initial.setdefault(name, getattr(user, name))
            if not access.may_manage_login(self.actor, user):
                for name in ("email", "first_name", "last_name"):
                    self.fields[name].disabled = True
                self.fields["email"].help_text = _(
                    "This login is the person's own: only they change its name and e-mail "
                    "address, in Klimop under their account."
                )

    def clean(self):
        cleaned = super().clean()
        school = cleaned.get("school") or (self.instance.school if self.instance.school_id else None)
        if school is not None and all(
            cleaned.get(n) is not None for n in ("email", "first_name", "last_name")
        ):
            self._user = staff_user_for(
                actor=self.actor,
                staff=self.instance,
                school=school,
                email=cleaned["email"],
                first_name=cleaned["first_name"],
                last_name=cleaned["last_name"],
            )
        return cleaned

    def save(self, commit=True):
        # The login is saved even with commit=False: the staff row cannot exist
        # without it. The admin saves inside one transaction, so a refusal later
        # on rolls this back too.
        staff_user_save(
            self._user,
            school=self.cleaned_data.get("school") or self.instance.school,
            role=self.cleaned_data["role"],
        )
        self.instance.user = self._user
        return super().save(commit)


class UserAdminCreationForm(StripBidiMixin, AdminUserCreationForm):
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


class UserAdminChangeForm(StripBidiMixin, UserChangeForm):
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
            queryset=schools,
            label=_("School"),
            required=False,
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


class ContactDetailsForm(StripBidiMixin, forms.Form):
    """A guardian keeps their own e-mail address and phone number current."""

    email = forms.EmailField(label=_("E-mail address for the school"), max_length=254)
    phone = forms.RegexField(
        label=_("Phone number"),
        required=False,
        max_length=30,
        regex=r"^\+?[0-9][0-9 \-()]{5,28}$",
        error_messages={"invalid": _("Enter a phone number with digits only, e.g. 06-12345678.")},
        help_text=_("Only the school sees this. Other parents never do."),
    )
    notify_by_email = forms.BooleanField(
        label=_("Also send me notifications by e-mail"),
        required=False,
        help_text=_("New posts and answers always appear in Klimop."),
    )


class NameForm(StripBidiMixin, forms.Form):
    """A person's own name on their login, as staff and other parents see it."""

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
