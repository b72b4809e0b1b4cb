from datetime import date

import pytest
from django.core.management import call_command

from locus.core.tenancy import place_scope
from locus.directory.models import OrganisationListing
from locus.outbox.models import OutboxMessage
from locus.programmes.tasks import send_reminders_everywhere

from .factories import period, programme

pytestmark = pytest.mark.django_db


def _due_period(world):
    OrganisationListing.objects.filter(place=world.a.place).update(inbox_email="t@alpha.example")
    p = programme(world.a)
    # Ended long ago (before today), never reported: due.
    return period(p, start=date(2026, 1, 1), end=date(2026, 1, 31))


def test_reminder_command_queues_one_email_per_due_period(world, capsys):
    _due_period(world)
    call_command("programmes_send_reminders", base_url="https://locus.example")
    assert "1 reminders queued" in capsys.readouterr().out
    call_command("programmes_send_reminders")
    with place_scope(world.a.place):
        assert OutboxMessage.objects.count() == 1


def test_reminder_task_runs_in_every_place(world):
    _due_period(world)
    assert send_reminders_everywhere.call(base_url="https://locus.example") == {"alpha": 1}
