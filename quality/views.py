"""Quality-card pages: the director's card and CSV, a survey's results, the parent's answer.

Thin views: reads through ``quality.selectors`` (which checks access: 403 for staff who do not
manage the school, 404 for a survey that is missing or not theirs), writes through
``quality.services``. URLs in ``quality/urls.py``.
"""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from . import selectors as quality
from . import services
from .forms import SCALE, SCORE_LABELS, answer_form_for


@never_cache
@login_required
@require_GET
def quality_card(request: HttpRequest) -> HttpResponse:
    """The five figures over the chosen period (``?periode=``), each against its target."""
    card = quality.quality_card_for(viewer=request.user, period_key=request.GET.get("periode"))
    if request.GET.get("format") == "csv":
        return _card_csv(card)
    return render(
        request,
        "quality/card.html",
        {
            "card": card,
            "min_shown": quality.MIN_RESPONSES_SHOWN,
        },
    )


def _card_csv(card: quality.QualityCard) -> HttpResponse:
    period = card.period
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="kwaliteitskaart-{period.starts_on:%Y%m%d}-{period.ends_on:%Y%m%d}.csv"'
    )
    response.write("\ufeff")  # Excel opens UTF-8 with a BOM correctly
    writer = csv.writer(response, delimiter=";")
    states = {
        quality.State.ON: _("on target"),
        quality.State.BELOW: _("below target"),
        quality.State.NONE: _("no data"),
    }
    writer.writerow([_("Period"), f"{period.starts_on:%d-%m-%Y}", f"{period.ends_on:%d-%m-%Y}"])
    writer.writerow([_("Figure"), _("Name"), _("Value (%)"), _("Target (%)"), _("Status"), _("Detail")])
    for figure in card.figures:
        writer.writerow(
            [
                figure.title,
                "",
                _number(figure.value),
                figure.target,
                states[figure.state],
                _csv_safe(figure.summary or figure.note),
            ]
        )
    for row in card.post_groups:
        writer.writerow(
            [
                _("Post rhythm"),
                _csv_safe(row.name),
                _number(row.weeks_share),
                card.targets.post_weeks_percent,
                "",
                _("%(posts)s posts in %(weeks)s school weeks") % {"posts": row.posts, "weeks": row.weeks},
            ]
        )
    for row in card.parent_groups:
        writer.writerow(
            [
                _("Parents active"),
                _csv_safe(row.name),
                _number(row.active_share),
                card.targets.active_parents_percent,
                "",
                f"{row.active}/{row.guardians}",
            ]
        )
    for row in card.report_groups:
        writer.writerow(
            [
                _("Sick reports on time"),
                _csv_safe(row.name),
                _number(row.reports_share),
                card.targets.sick_reports_on_time_percent,
                "",
                f"{row.reports_on_time}/{row.reports}",
            ]
        )
    for teacher in card.teachers:
        stats = teacher.stats
        writer.writerow(
            [
                _("Answer times"),
                _csv_safe(teacher.name),
                _number(stats.share),
                card.targets.answered_in_time_percent,
                "",
                _("%(n)s of %(total)s in time; median %(median)s; %(escalated)s escalated")
                % {
                    "n": stats.on_time,
                    "total": stats.decided,
                    "median": stats.median_display,
                    "escalated": stats.escalated,
                },
            ]
        )
    for summary in card.surveys:
        writer.writerow(
            [
                _("Parent satisfaction"),
                _csv_safe(summary.survey.title),
                _number(summary.share),
                card.targets.satisfied_percent,
                "",
                _("%(n)s answers") % {"n": summary.responses},
            ]
        )
    return response


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}".replace(".", ",")


def _csv_safe(value: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas (CSV injection)."""
    return f"'{value}" if value[:1] in {"=", "+", "-", "@"} else value


@never_cache
@login_required
@require_GET
def survey_results(request: HttpRequest, pk: int) -> HttpResponse:
    """Counts, the share satisfied, the scores and the comments of one survey — never names."""
    results = quality.survey_results_for(viewer=request.user, pk=pk)
    return render(
        request,
        "quality/survey_results.html",
        {
            "results": results,
            "labels": SCORE_LABELS,
            "min_shown": quality.MIN_RESPONSES_SHOWN,
            "is_open": results.survey.is_open_at(timezone.now()),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def survey_answer(request: HttpRequest, pk: int) -> HttpResponse:
    """A parent answers a survey once; afterwards (or when it closed) the page says so."""
    survey = quality.survey_get_for_parent(viewer=request.user, pk=pk)
    answered = quality.has_answered(request.user, survey)
    is_open = survey.is_open_at(timezone.now())
    form = answer_form_for(survey, request.POST or None)
    if request.method == "POST" and not answered and is_open and form.is_valid():
        try:
            services.survey_respond(
                actor=request.user,
                survey=survey,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for name, errors in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                messages.error(request, " ".join(exc.messages))
                return redirect("quality:survey_answer", pk=survey.pk)
        else:
            messages.success(request, _("Thank you! Your answer has been saved anonymously."))
            return redirect("home")
    elif request.method == "POST" and (answered or not is_open):
        messages.error(
            request, _("You have already answered this survey.") if answered else _("This survey is closed.")
        )
        return redirect("quality:survey_answer", pk=survey.pk)
    return render(
        request,
        "quality/survey_answer.html",
        {
            "survey": survey,
            "form": form,
            "answered": answered,
            "is_open": is_open,
            "scale": SCALE,
        },
        status=400 if form.errors else 200,
    )
