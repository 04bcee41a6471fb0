"""Histograms of durations that add up across days: bucket b holds values in
[BASE**b, BASE**(b+1)). A percentile read from them is the bucket's geometric middle, within 5% of
the true value, however many days are summed; a median of daily medians would not be a median at
all. The rollups keep one row per day and bucket (models.DurationDay)."""

import math

from django.db.models import F, FloatField, Func, IntegerField, Value
from django.db.models.functions import Cast, Floor, Greatest, Ln

BASE = 1.1


def bucket_expression(value) -> Func:
    """SQL computing the bucket of `value` (a numeric expression; values below 1 go to bucket 0)."""
    value = F(value) if isinstance(value, str) else value
    return Cast(
        Floor(Ln(Greatest(Cast(value, FloatField()), Value(1.0))) / Value(math.log(BASE))),
        IntegerField(),
    )


def percentile(histogram: dict[int, int], fraction: float) -> float | None:
    """The value below which `fraction` of the counted values lie; None when nothing is counted."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            break
    return BASE ** (bucket + 0.5)
