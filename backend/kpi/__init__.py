"""The clinic's KPIs (経営指標), computed with grouped SQL over the ledger.

Use it as `from backend import kpi` then `kpi.month(session, clinic_id=…, month=…, now=…)`.
Every function reads only; the results are the frozen dataclasses of `backend.kpi.report`.
The definitions are in docs/kpi.md.
"""

from __future__ import annotations

from backend.kpi.breakdowns import by_course, by_media, by_staff
from backend.kpi.days import backlog_trend, daily, heatmap
from backend.kpi.ltv import ltv_by_media
from backend.kpi.months import month, trend
from backend.kpi.phone import phone

__all__ = [
    "backlog_trend",
    "by_course",
    "by_media",
    "by_staff",
    "daily",
    "heatmap",
    "ltv_by_media",
    "month",
    "phone",
    "trend",
]
