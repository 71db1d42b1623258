"""`[schedule]`: jobs name a known procedure and a crontab expression; mistakes name the key."""

from __future__ import annotations

import itertools
import re
import tomllib
from datetime import UTC
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel

from connector.errors import ConfigurationError
from connector.testing import at
from smpm.schedule.config import JobSection, ScheduleSection
from smpm.schedule.cron import crontab_trigger, day_of_week
from smpm.settings import load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "smpm.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "smpm.toml"
    path.write_text(text)
    return path


def job(procedure: str = "incident.tracking", cron: str = "*/5 * * * *", **extra: str) -> str:
    lines = [f'{k} = "{v}"' for k, v in extra.items()]
    return "\n".join(
        ["[[schedule.jobs]]", *lines, f'procedure = "{procedure}"', f'cron = "{cron}"', ""]
    )


def test_jobs_are_read_with_their_defaults(tmp_path: Path) -> None:
    """A job without a name is named after its procedure; the scheduler is off for serve."""
    path = write(tmp_path, job() + job("event.review", "0 6 * * 1", name="weekly-review"))
    section = load_settings(path).schedule
    assert (section.enabled, section.timezone, section.misfire_grace_seconds) == (
        False,
        "UTC",
        300,
    )
    assert [(j.job_name, j.procedure, j.dry_run) for j in section.jobs] == [
        ("incident.tracking", "incident.tracking", False),
        ("weekly-review", "event.review", False),
    ]


BAD = [
    (
        "unknown procedure",
        job("incident.triage"),
        r"smpm\.toml:2: schedule\.jobs\.0\.procedure: unknown procedure 'incident\.triage'; "
        r"known: .*incident\.assignment, .*incident\.tracking",
    ),
    (
        "a procedure that runs on events",
        job("event.handling"),
        r"schedule\.jobs\.0\.procedure: event\.handling runs on events \(webhook: POST",
    ),
    (
        "cron out of range",
        job(cron="61 * * * *", name="sla"),
        r"schedule\.jobs\.0\.cron: job 'sla': cron '61 \* \* \* \*': Error validating "
        r"expression '61'",
    ),
    (
        "cron with four fields",
        job(cron="*/5 * * *"),
        r"job 'incident\.tracking': cron '\*/5 \* \* \*': 4 fields; a crontab expression has 5",
    ),
    ("cron with a bad weekday", job(cron="0 6 * * 8"), r"weekday '8' is neither 0-7"),
    ("cron restricting both days", job(cron="0 6 1 * 1"), r"restricts both day of month"),
    (
        "two jobs of one name",
        job() + job(cron="0 * * * *"),
        r"schedule: two jobs are named 'incident\.tracking'; give one of them a distinct `name`",
    ),
    ("unknown time zone", '[schedule]\ntimezone = "Mars/Olympus"\n', r"unknown time zone"),
    (
        "a dry run of a review",
        job("event.review", "0 6 * * 1") + "dry_run = true\n",
        r"schedule\.jobs\.0: job 'event\.review': event\.review writes nothing to the ITSM",
    ),
    ("unknown key", "[schedule]\nenable = true\n", r"schedule\.enable: Extra inputs"),
    ("grace of zero", "[schedule]\nmisfire_grace_seconds = 0\n", r"misfire_grace_seconds"),
]


@pytest.mark.parametrize(("text", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_schedules_are_refused_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_settings(write(tmp_path, text))


# -- crontab semantics ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "names"),
    [
        ("*", "*"),
        ("1", "mon"),
        ("0", "sun"),
        ("7", "sun"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("5-7", "sun,fri,sat"),
        ("*/2", "sun,tue,thu,sat"),
        ("1-5/2", "mon,wed,fri"),
        ("mon,wed", "mon,wed"),
        ("SAT,0", "sun,sat"),
    ],
)
def test_weekdays_are_read_as_crontab_reads_them(field: str, names: str) -> None:
    """0 and 7 are Sunday, 1 is Monday: not APScheduler 3's Monday-first numbering."""
    assert day_of_week(field) == names


def test_weekday_1_fires_on_monday() -> None:
    """`0 6 * * 1` after Wednesday 25 November 2026 is Monday the 30th, 06:00."""
    trigger = crontab_trigger("0 6 * * 1", UTC)
    assert trigger.get_next_fire_time(None, at("2026-11-25 10:00")) == at("2026-11-30 06:00")


def test_crons_are_read_in_the_configured_time_zone() -> None:
    """06:00 in Amsterdam in winter is 05:00 UTC."""
    trigger = crontab_trigger("0 6 * * *", ZoneInfo("Europe/Amsterdam"))
    fire = trigger.get_next_fire_time(None, at("2026-11-25 10:00"))
    assert fire == at("2026-11-26 05:00")


# -- the example file -----------------------------------------------------------------------------
@pytest.mark.parametrize("model", [ScheduleSection, JobSection])
def test_every_schedule_key_is_documented_in_the_example(model: type[BaseModel]) -> None:
    text = EXAMPLE.read_text()
    section = text[text.index("[schedule]") :]
    for key in model.model_fields:
        assert re.search(rf"\b{key}\b", section), key


def test_the_example_s_commented_jobs_are_valid() -> None:
    """Uncommented, the example jobs load: copying one into a config file works."""
    text = EXAMPLE.read_text()
    block = itertools.takewhile(
        lambda line: line.startswith("#"),
        text[text.index("# [[schedule.jobs]]") :].splitlines(),
    )
    uncommented = "\n".join(line.removeprefix("#").strip() for line in block)
    section = ScheduleSection.model_validate(tomllib.loads(uncommented)["schedule"])
    names = [j.job_name for j in section.jobs]
    assert "incident.assignment" in names and "event.review" in names
    assert len(names) == len(set(names)) >= 8
