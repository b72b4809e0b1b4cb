"""Staff pages for alerts: the alarms with their context (the place's team), and the
organisation's subscription with the notices it covers (every organisation that may
subscribe, partners included: the week, the area and the category, no figure)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from locus.accounts.decorators import staff_view
from locus.accounts.policies import Capability, membership_can
from locus.core.errors import ApplicationError

from . import selectors, services
from .forms import AlarmFilterForm, SubscriptionForm

PAGE_SIZE = 50


def _subscription_initial(subscription):
    if subscription is None:
        return {"is_active": True}
    return {
        "areas": list(subscription.areas.all()),
        "bias": subscription.bias,
        "incident_types": subscription.incident_types,
        "is_active": subscription.is_active,
    }


def _page(request, form=None, status=200):
    place, membership = request.place, request.membership
    filters = AlarmFilterForm(request.GET or None, place=place)
    filters.is_valid()  # a bad value is dropped from cleaned_data: the other filters still apply
    chosen = filters.cleaned_data if filters.is_bound else {}
    alarms = selectors.alarm_list(
        place=place, status=chosen.get("status") or None, area=chosen.get("area")
    )
    page = Paginator(alarms, PAGE_SIZE).get_page(request.GET.get("page"))
    language = request.LANGUAGE_CODE
    for alarm in page:
        alarm.category_label = selectors.category_label(alarm.axis, alarm.category, language)
    can_subscribe = membership_can(membership, Capability.SUBSCRIBE_ALERTS)
    subscription = None
    if can_subscribe:
        subscription = selectors.subscription_get(place=place, organisation=membership.organisation)
        if form is None:
            form = SubscriptionForm(place=place, initial=_subscription_initial(subscription))
    context = {
        "page": page,
        "filters": filters,
        "form": form,
        "subscription": subscription,
        "can_subscribe": can_subscribe,
        "can_close": membership_can(membership, Capability.MANAGE_INSIGHTS),
        "last_run": selectors.last_run(place=place),
    }
    return render(request, "alerts/index.html", context, status=status)


@staff_view(Capability.VIEW_INSIGHTS)
def index(request):
    return _page(request)


@staff_view(Capability.VIEW_INSIGHTS)
def detail(request, alarm_id):
    """One alarm with its series around the week: a bar chart and the same figures as a
    table."""
    place = request.place
    alarm = selectors.access_alarm(place=place, alarm_id=alarm_id)
    if alarm is None:
        raise Http404
    alarm.category_label = selectors.category_label(
        alarm.axis, alarm.category, request.LANGUAGE_CODE
    )
    points = selectors.alarm_series(place=place, alarm=alarm)
    context = {
        "alarm": alarm,
        "points": points,
        "chart": selectors.series_chart(points, alarm=alarm),
        "can_close": membership_can(request.membership, Capability.MANAGE_INSIGHTS),
    }
    return render(request, "alerts/detail.html", context)


def _subscription_page(request, form=None, status=200):
    """The organisation's subscription and the alarms it covers, told as notices: the week,
    the area and the category (what a partner's e-mail and webhook event carry)."""
    place, membership = request.place, request.membership
    subscription = selectors.subscription_get(place=place, organisation=membership.organisation)
    notices = selectors.notice_list(place=place, subscription=subscription)
    language = request.LANGUAGE_CODE
    for alarm in notices:
        alarm.category_label = selectors.category_label(alarm.axis, alarm.category, language)
    if form is None:
        form = SubscriptionForm(place=place, initial=_subscription_initial(subscription))
    context = {
        "form": form,
        "subscription": subscription,
        "notices": notices,
        "notice_weeks": selectors.NOTICE_WEEKS,
        "reads_alarms": membership_can(membership, Capability.VIEW_INSIGHTS),
    }
    return render(request, "alerts/subscription.html", context, status=status)


def _after_saving(request):
    """Back to the alarms for the place's team, to the subscription page for a partner."""
    if membership_can(request.membership, Capability.VIEW_INSIGHTS):
        return redirect("alerts:index", place_slug=request.place.slug)
    return redirect("alerts:subscription", place_slug=request.place.slug)


@require_http_methods(["GET", "POST"])
@staff_view(Capability.SUBSCRIBE_ALERTS)
def subscription(request):
    """The subscription page; a POST saves (or, with action=delete, ends) the organisation's
    subscription."""
    place, membership = request.place, request.membership
    if request.method == "GET":
        return _subscription_page(request)
    if request.POST.get("action") == "delete":
        if services.subscription_delete(place=place, membership=membership, actor=request.user):
            messages.success(request, _("Your organisation no longer receives alerts."))
        return _after_saving(request)
    form = SubscriptionForm(request.POST, place=place)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.subscription_set(
                place=place,
                membership=membership,
                actor=request.user,
                area_ids=[area.pk for area in data["areas"]],
                bias=data["bias"],
                incident_types=data["incident_types"],
                is_active=data["is_active"],
            )
        except ApplicationError as exc:
            for name, errors in exc.fields.items():
                for error in errors:
                    form.add_error(name if name in form.fields else None, error)
        else:
            messages.success(request, _("Subscription saved."))
            return _after_saving(request)
    if membership_can(membership, Capability.VIEW_INSIGHTS):
        return _page(request, form=form, status=422)
    return _subscription_page(request, form=form, status=422)


@require_POST
@staff_view(Capability.MANAGE_INSIGHTS)
def close(request, alarm_id):
    alarm = selectors.access_alarm(place=request.place, alarm_id=alarm_id)
    if alarm is None:
        raise Http404
    services.alarm_close(place=request.place, alarm=alarm, actor=request.user)
    messages.success(request, _("Alarm closed."))
    return redirect("alerts:index", place_slug=request.place.slug)
