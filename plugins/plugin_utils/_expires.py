"""``expires`` of a time-limited conduit: read, checked and normalised to one UTC instant, to the second.

A conduit's ``expires`` is an ISO 8601 date-time WITH a time and a UTC offset - ``2030-01-31T18:00:00+01:00`` or
``2030-01-31T17:00:00Z`` - given as a string, or as the date-time YAML makes of an unquoted value (a ``datetime``
object; Ansible may also hand over its ``str()`` form, ``2030-01-31 17:00:00+00:00``). Anything a reader could take
for another instant is refused: a date alone (``2030-01-31``: which midnight?), a time without an offset (whose
local time?), an offset no place on Earth uses, digits that are not ASCII, a day that does not exist.

The host enforces the instant by itself with nftables ``meta time``, which compares the kernel's realtime clock
(UTC, in nanoseconds since the epoch) with a constant; the renderer writes that constant as integer seconds since
the epoch (``epoch``), the one form nft reads without applying the local time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

RULE = (
    "write a date-time with a time and a UTC offset (ISO 8601), for example 2030-01-31T18:00:00+01:00 or "
    "2030-01-31T17:00:00Z"
)
# The extended ISO 8601 calendar form (RFC 3339 with an optional offset, so a missing one gets its own message).
TEXT_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:?[0-9]{2})?", re.ASCII
)
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
OFFSET_MAX = timedelta(hours=14)  # UTC-12:00 .. UTC+14:00 are the offsets in use
# Time-limited access: an expiry further ahead than this is a typo or a permanent conduit in disguise. It also keeps
# the instant far inside nft's 64-bit nanosecond clock (which ends in 2554).
HORIZON = timedelta(days=3653)
HORIZON_TEXT = "10 years"


class ExpiresError(ValueError):
    """An ``expires`` value that is not one unambiguous future instant; the message says why (without the where)."""


@dataclass(frozen=True)
class Expiry:
    """One UTC instant, whole seconds."""

    instant: datetime

    @property
    def epoch(self) -> int:
        """Seconds since 1970-01-01T00:00:00Z: what the nft file compares ``meta time`` with."""
        return int(self.instant.timestamp())

    @property
    def text(self) -> str:
        """ISO 8601 in UTC, ``2030-01-31T17:00:00Z``."""
        return self.instant.strftime("%Y-%m-%dT%H:%M:%SZ")

    def left(self, now: datetime) -> int:
        """Whole seconds from ``now`` to the instant (negative once it has passed)."""
        return (self.instant - now) // timedelta(seconds=1)


def utc_now(now: datetime | None = None) -> datetime:
    """``now`` (aware, for tests) or the clock's time, in UTC."""
    if now is None:
        return datetime.now(UTC)
    if now.utcoffset() is None:
        raise ValueError(f"now: {now!r} has no UTC offset; give an aware datetime")
    return now.astimezone(UTC)


def parse_expires(value: Any, now: datetime) -> Expiry:
    """The instant ``value`` names, checked to be unambiguous, after ``now`` and within the horizon."""
    moment = _moment(value)
    offset = moment.utcoffset()
    if offset is None:
        raise ExpiresError(f"{_shown(value)} has no UTC offset, so the instant depends on whose clock reads it; {RULE}")
    if abs(offset) > OFFSET_MAX:
        raise ExpiresError(f"{_shown(value)} has the UTC offset {_offset_text(offset)}, beyond -12:00..+14:00; {RULE}")
    try:
        instant = moment.astimezone(UTC).replace(microsecond=0)  # to the second: never later than stated
    except (OverflowError, ValueError) as exc:
        raise ExpiresError(f"{_shown(value)} is out of range ({exc}); {RULE}") from exc
    expiry = Expiry(instant)
    if instant <= now:
        raise ExpiresError(
            f"{_shown(value)}: the conduit expired at {expiry.text}, {duration_text(-expiry.left(now))} ago (now "
            f"{Expiry(now.replace(microsecond=0)).text}); remove the conduit from the inventory or renew it with a "
            "later expires"
        )
    if instant - now > HORIZON:
        raise ExpiresError(
            f"{_shown(value)} is more than {HORIZON_TEXT} ahead; time-limited access ends within {HORIZON_TEXT} "
            "(leave expires out for a conduit that does not expire)"
        )
    return expiry


def _moment(value: Any) -> datetime:
    """A datetime (maybe naive) from a datetime object or the text of one; refusals for everything else."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        raise ExpiresError(f"{_shown(value)} is a date without a time (an unquoted YAML date); {RULE}")
    if not isinstance(value, str) or isinstance(value, bool):
        raise ExpiresError(f"{value!r} ({type(value).__name__}) is not a date-time; {RULE}")
    if not value.isascii():
        raise ExpiresError(f"{value!r} contains characters other than ASCII digits, '-', ':', 'T', 'Z', '+'; {RULE}")
    if DATE_RE.fullmatch(value):
        raise ExpiresError(f"{value!r} is a date without a time; {RULE}")
    if not TEXT_RE.fullmatch(value):
        raise ExpiresError(
            f"{value!r} is not an ISO 8601 date-time of the form YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM]; {RULE}"
        )
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise ExpiresError(f"{value!r} is not a valid date-time ({exc}); {RULE}") from exc


def _shown(value: Any) -> str:
    return repr(value.isoformat()) if isinstance(value, date) else repr(value)


def _offset_text(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def duration_text(seconds: int) -> str:
    """``3d 4h``, ``2h 5m``, ``42s``: a readable span for messages and reports."""
    days, rest = divmod(max(seconds, 0), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    shown = [f"{count}{unit}" for count, unit in parts if count][:2]
    return " ".join(shown) or "0s"
