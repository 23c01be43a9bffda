"""Privacy preferences pages: parents decide, teachers see, the office exports.

Thin views: reads through ``privacy_selectors`` (404 for missing and not-yours alike),
writes through ``privacy_services``. Included under ``/privacy/`` by ``klimop/urls.py``.
"""

from __future__ import annotations

import csv
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from klimop import access
from klimop.http import AuthenticatedHttpRequest

from . import selectors, services
from .forms import EXPLANATIONS, ConsentForm
from .models import ConsentPurpose


def _form_prefix(pupil_pk: int) -> str:
    return f"child-{pupil_pk}"


@login_required
@require_GET
def privacy_home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A parent's children, each with a switch per purpose and a save button."""
    children = selectors.consent_children_for(viewer=request.user)
    cards: list[dict[str, Any]] = [
        {
            "child": child,
            "form": ConsentForm(
                prefix=_form_prefix(child.pupil.pk),
                initial_choices={row.purpose: row.mine for row in child.rows},
            ),
            "rows": {row.purpose: row for row in child.rows},
        }
        for child in children
    ]
    for card in cards:
        card["fields"] = [(field, card["rows"][field.name]) for field in card["form"]]
    return render(
        request,
        "privacy/home.html",
        {
            "cards": cards,
            "is_guardian": access.is_guardian(request.user),
        },
    )


@login_required
@require_POST
def privacy_child_update(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    pupil = selectors.consent_pupil_get_for(viewer=request.user, pk=pk)
    form = ConsentForm(request.POST, prefix=_form_prefix(pupil.pk))
    if form.is_valid():
        events = services.consent_set_many(actor=request.user, pupil=pupil, choices=form.choices())
        if events:
            messages.success(
                request, _("Your choices for %(name)s have been saved.") % {"name": pupil.first_name}
            )
        else:
            messages.info(request, _("Nothing changed for %(name)s.") % {"name": pupil.first_name})
    return redirect(f"{reverse('privacy:privacy_home')}#child-{pupil.pk}")


@login_required
@require_POST
def privacy_withdraw_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not selectors.consent_pupils_for(request.user).exists():
        raise Http404
    services.consent_withdraw_all(actor=request.user)
    messages.success(request, _("All consent for photos and video has been withdrawn."))
    return redirect("privacy:privacy_home")


@login_required
@require_GET
def privacy_group(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Staff: each pupil of the group with consent per purpose; who must not be recognisable."""
    group = selectors.consent_group_get_for(viewer=request.user, pk=pk)
    pupils = selectors.group_consent(group=group)
    not_recognisable = [p for p in pupils if not p.effective.get(ConsentPurpose.GROUP_PAGE)]
    return render(
        request,
        "privacy/group.html",
        {
            "group": group,
            "pupils": pupils,
            "not_recognisable": not_recognisable,
            "purposes": list(ConsentPurpose),
            "explanations": EXPLANATIONS,
        },
    )


@login_required
@require_GET
def privacy_overview(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Director and office: per group, how many pupils have consent per purpose; CSV export."""
    overview = selectors.consent_overview_for(viewer=request.user)
    if request.GET.get("format") == "csv":
        return _overview_csv(overview)
    groups = [
        {
            "group": group,
            "size": len(pupils),
            "counts": [
                (purpose.label, sum(1 for p in pupils if p.effective.get(purpose.value)))
                for purpose in ConsentPurpose
            ],
        }
        for group, pupils in overview
    ]
    return render(
        request,
        "privacy/overview.html",
        {
            "groups": groups,
            "purposes": list(ConsentPurpose),
        },
    )


def _overview_csv(overview) -> HttpResponse:
    stamp = timezone.localtime().strftime("%Y-%m-%d")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="toestemming-{stamp}.csv"'
    response.write("\ufeff")  # Excel opens UTF-8 with a BOM correctly
    writer = csv.writer(response, delimiter=";")
    writer.writerow([_("Group"), _("Pupil"), *[str(p.label) for p in ConsentPurpose]])
    yes, no = _("yes"), _("no")
    for group, pupils in overview:
        for entry in pupils:
            writer.writerow(
                [
                    _csv_safe(group.name),
                    _csv_safe(entry.pupil.full_name),
                    *[yes if entry.effective.get(p) else no for p in ConsentPurpose.values],
                ]
            )
    return response


def _csv_safe(value: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas (CSV injection)."""
    return f"'{value}" if value[:1] in {"=", "+", "-", "@"} else value


@never_cache
@login_required
@require_GET
def privacy_my_data(request: AuthenticatedHttpRequest) -> HttpResponse:
    """AVG art. 15/20: a parent downloads what the school holds about them, as JSON."""
    data = selectors.my_data_for(viewer=request.user)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/json",
    )
    response["Content-Disposition"] = 'attachment; filename="mijn-gegevens.json"'
    return response
