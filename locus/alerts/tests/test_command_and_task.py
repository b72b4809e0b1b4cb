"""The weekly run as the scheduler and cron start it: the task over every place and the
`detect_spikes` command (one place, a back-fill, bad arguments)."""

from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command

from locus.alerts.models import Alarm, DetectionRun
from locus.alerts.tasks import detect_spikes, detect_spikes_all

from .helpers import LAST_WEEK, NOW, in_week, save, week
from .test_detection_run import BIAS, flat_history


@pytest.fixture
def surging(world):
    a = world.a
    save(
        a.place,
        flat_history(a.place, a.areas, weeks=20, mean=3, dispersion=1.5, bias=BIAS, seed=5)
        + in_week(a.place, LAST_WEEK, 40, area=a.areas[0], seed=3),
    )
    return a


def frozen():
    return mock.patch("django.utils.timezone.now", return_value=NOW)


def test_the_task_judges_every_place_in_its_own_scope(surging, world, in_place):
    with frozen():
        results = detect_spikes_all.call()
    assert set(results) == {"alpha", "beta"}
    assert results["alpha"]["new"] >= 1 and results["beta"] == {"series": 0, "alarms": 0, "new": 0}
    with in_place(world.a.place):
        assert Alarm.objects.filter(week=LAST_WEEK).exists()
    with in_place(world.b.place):
        assert DetectionRun.objects.get().series == 0


def test_the_one_place_task_backfills(surging, world, in_place):
    with frozen():
        lines = detect_spikes.call(place_id=world.a.place.pk, since=week(3).isoformat())
    assert len(lines) == 4 and lines[-1].startswith(f"week of {LAST_WEEK:%Y-%m-%d}")


def test_the_command(surging, world, in_place):
    out = StringIO()
    with frozen():
        call_command(
            "detect_spikes", "--place", "alpha", "--since", week(1).isoformat(), stdout=out
        )
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and all(line.startswith("alpha: week of") for line in lines)
    assert "alarms (" in lines[-1] and " 0 alarms" not in lines[-1]
    with frozen():
        call_command("detect_spikes", stdout=(out := StringIO()))
    assert {line.split(":")[0] for line in out.getvalue().splitlines()} == {"alpha", "beta"}
    assert "(0 new)" in out.getvalue()  # the same week again: nothing new


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--place", "nowhere"], "No active place"),
        (["--place", "alpha", "--since", "yesterday"], "YYYY-MM-DD"),
        (["--place", "alpha", "--since", "2099-01-01"], "Only weeks that have ended"),
    ],
)
def test_bad_arguments(world, args, message):
    with frozen(), pytest.raises(CommandError, match=message):
        call_command("detect_spikes", *args, stdout=StringIO())


def test_the_command_can_hand_the_run_to_the_worker(surging, world, in_place):
    """With --enqueue the run is a task (the test settings run tasks at once)."""
    out = StringIO()
    with frozen():
        call_command("detect_spikes", "--enqueue", stdout=out)
    assert out.getvalue().startswith("Queued task")
    with in_place(world.a.place):
        assert DetectionRun.objects.filter(week=LAST_WEEK).count() == 1
    with frozen(), pytest.raises(CommandError, match="needs --place"):
        call_command("detect_spikes", "--enqueue", "--since", "2026-01-05", stdout=out)
