import datetime as dt

import pytest
from django.utils import timezone

from locus.core.choices import AuditAction
from locus.core.errors import ValidationFailed
from locus.core.models import AuditEvent
from locus.core.tenancy import place_scope

from .. import selectors, services
from ..models import Service
from .factories import listed_organisation, make_service


def test_service_write_validates_and_audits(world, directory):
    a = world.a
    with place_scope(a.place), pytest.raises(ValidationFailed) as exc:
        services.service_write(
            place=a.place,
            actor=None,
            organisation=directory["charity"],
            name="Bad",
            service_type="not_a_type",
            target_groups=["nobody"],
            languages=["xx"],
            min_age=20,
            max_age=10,
            areas=[a.areas[0]],
        )
    assert {"service_type", "target_groups", "languages", "max_age"} <= set(exc.value.fields)
    service = directory["services"][0]
    with place_scope(a.place):
        services.service_write(
            place=a.place, actor=a.users["admin"], service=service, name="Renamed", areas=[]
        )
    event = AuditEvent.objects.filter(action=AuditAction.DIRECTORY_CHANGED).first()
    assert event.data["record"] == "service"
    assert set(event.data["fields"]) == {"name", "areas"}
    assert event.target_id == str(service.pk)


def test_service_refuses_another_places_area_and_unlisted_organisation(world, directory):
    a, b = world.a, world.b
    with place_scope(a.place), pytest.raises(ValidationFailed) as exc:
        services.service_write(
            place=a.place,
            actor=None,
            organisation=directory["charity"],
            name="X",
            service_type="helpline",
            areas=[b.areas[0]],
        )
    assert "areas" in exc.value.fields
    with place_scope(a.place), pytest.raises(ValidationFailed) as exc:
        services.service_write(
            place=a.place,
            actor=None,
            organisation=b.organisation,
            name="X",
            service_type="helpline",
            areas=[],
        )
    assert "organisation" in exc.value.fields


def test_partnership_rules(world, directory):
    a = world.a
    with place_scope(a.place):
        with pytest.raises(ValidationFailed):  # the same one twice
            services.partnership_write(
                place=a.place,
                actor=None,
                source=directory["charity"],
                target=directory["other"],
                kind="referral",
            )
        with pytest.raises(ValidationFailed):  # with itself
            services.partnership_write(
                place=a.place,
                actor=None,
                source=directory["charity"],
                target=directory["charity"],
                kind="funding",
            )
        with pytest.raises(ValidationFailed):  # a partner not listed here
            services.partnership_write(
                place=a.place,
                actor=None,
                source=directory["charity"],
                target=world.b.organisation,
                kind="funding",
            )


def test_staleness_follows_the_place_setting(world, directory):
    a = world.a
    service = directory["services"][0]
    with place_scope(a.place):
        Service.objects.filter(pk=service.pk).update(
            last_checked_on=timezone.localdate() - dt.timedelta(days=40)
        )
        assert not selectors.access_service(place=a.place, service_id=service.pk).is_stale
        services.directory_settings_update(place=a.place, actor=None, check_every_days=30)
        assert selectors.access_service(place=a.place, service_id=service.pk).is_stale
        stale = selectors.stale_records_by_organisation(place=a.place)
        assert stale[directory["charity"].pk] >= 1
        services.record_mark_checked(place=a.place, actor=None, record=service)
        assert not selectors.access_service(place=a.place, service_id=service.pk).is_stale


def test_reminders_go_through_the_outbox_once_per_period(world, directory, settings):
    from locus.outbox.models import OutboxMessage

    a = world.a
    charity = directory["charity"]
    with place_scope(a.place):
        listing = selectors.listing_get(place=a.place, organisation=charity)
        listing.inbox_email = "inbox@charity.example"
        listing.save()
        Service.objects.filter(organisation=charity).update(last_checked_on=None)
        sent = services.directory_send_reminders(place=a.place, base_url="https://locus.example")
        assert sent >= 1
        message = OutboxMessage.objects.filter(email_to="inbox@charity.example").get()
        assert f"/{a.place.slug}/directory/organisations/{charity.pk}/" in message.payload["body"]
        assert services.directory_send_reminders(place=a.place) == 0  # not again this period
        assert OutboxMessage.objects.filter(email_to="inbox@charity.example").count() == 1


def test_reminder_command_runs(world, directory, capsys):
    from django.core.management import call_command

    call_command("directory_remind", place=world.a.place.slug)
    assert "organisations reminded" in capsys.readouterr().out


def test_demo_directory_loads_and_is_idempotent(db):
    from django.core.management import call_command

    call_command("demo", scale=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
    from locus.places.models import Place

    london = Place.objects.get(slug="london")
    with place_scope(london):
        first = Service.objects.filter(place=london).count()
        services.directory_load_demo()
        assert Service.objects.filter(place=london).count() == first
        assert first >= 30
        result = selectors.coverage(place=london)
        assert result.overlaps > 0 and result.gaps > 0
        demo_services = selectors.service_list(place=london)
        assert any(s.is_stale for s in demo_services)
        for service in demo_services:  # every code of the demo data is in the vocabulary
            service.full_clean()


def test_make_service_helper(world):
    a = world.a
    organisation = listed_organisation(a.place, "Helper")
    service = make_service(a.place, organisation, whole_place=True)
    assert service.last_checked_on == timezone.localdate()
