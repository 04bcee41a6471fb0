"""The maintenance schedule: every entry is a maintenance-queue task, due at a worker's start and
then once per its interval."""

from django.utils.module_loading import import_string

from citadel.ops.schedule import MAINTENANCE, due


def test_every_entry_is_a_maintenance_task_with_an_interval_setting(settings):
    for entry in MAINTENANCE:
        assert import_string(entry.task).queue_name == "maintenance", entry.name
        assert settings.CITADEL[entry.every_setting] > 0, entry.name


def test_each_entry_is_due_at_start_then_once_per_interval(settings):
    settings.CITADEL = {**settings.CITADEL, **{entry.every_setting: 60 for entry in MAINTENANCE}}
    next_at: dict[str, float] = {}

    assert due(now=1000.0, next_at=next_at) == MAINTENANCE
    assert due(now=1059.0, next_at=next_at) == []
    assert due(now=1060.0, next_at=next_at) == MAINTENANCE
