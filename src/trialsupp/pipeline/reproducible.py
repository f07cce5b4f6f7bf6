"""Byte-reproducible documents: one fixed document date instead of the clock.

With ``SOURCE_DATE_EPOCH`` set (the reproducible-builds convention: seconds since
1970-01-01 UTC) or ``render --reproducible`` (the date of the study's data cut, at
00:00 UTC), the run date printed in the HTML/PDF, the PDF metadata dates and the
matplotlib figure metadata all come from that date, in UTC whatever the machine's time
zone; every other byte of the documents is already independent of the run and of the
working folder. ``verify`` then also compares the documents by SHA-256.
"""
from __future__ import annotations

import datetime as dt
import os
from typing import Any

DOCUMENTS = ("supplement.html", "supplement.pdf", "supplement.docx")


class ReproducibleError(ValueError):
    pass


def document_time(study, values: dict[str, Any], reproducible: bool) -> tuple[dt.datetime, str] | None:
    """(fixed UTC time, where it came from), or None for a render dated by the clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc), "SOURCE_DATE_EPOCH"
        except (ValueError, OverflowError, OSError):
            raise ReproducibleError(f"SOURCE_DATE_EPOCH={epoch!r}: expected whole seconds since 1970-01-01") from None
    if not reproducible:
        return None
    from trialsupp.study import cut_date
    cut = cut_date(study, values.get("data_cut"))
    if not cut:
        raise ReproducibleError(f"--reproducible: study {study.name} has no data cut to date the documents "
                                f"(pass -P data_cut=YYYY-MM-DD or set SOURCE_DATE_EPOCH)")
    day = dt.date.fromisoformat(str(cut)[:10])
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc), f"data cut {day.isoformat()}"


def epoch_of(when: dt.datetime) -> str:
    return str(int(when.timestamp()))
