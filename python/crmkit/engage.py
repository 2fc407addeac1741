"""Follow-up due lists and campaigns (docs/engagement.md): DataFrames over crmkit._core's calls.

Every rule (cadence, consent, channel choice, contact limits, odds, rounding) is the core's
(crmkit/loyalty/followup.hpp, campaigns.hpp, analytics/engage.hpp); this module only converts
arguments and turns column dicts into pandas DataFrames keyed by customer_id and external_id.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _core
from ._json import json_text
from .errors import ValidationError

__all__ = [
    "FollowUpPolicy",
    "DueList",
    "Audience",
    "CampaignPlan",
    "PlanComparison",
    "campaign_plan",
    "compare_plans",
    "due_list_from_columns",
]

FollowUpPolicy = _core.FollowUpPolicy
CampaignPlan = _core.CampaignPlan
PlanComparison = _core.PlanComparison


def _utc(micros: Any, present: Any = None) -> Any:
    import pandas as pd

    at = pd.to_datetime(np.asarray(micros, dtype=np.int64), unit="us", utc=True)
    at = at.as_unit("ns") if hasattr(at, "as_unit") else at
    if present is not None:
        at = at.where(np.asarray(present, dtype=bool))
    return at


def _external_ids(store: Any, ids: np.ndarray, keys: Any = None) -> Any:
    import pandas as pd

    keys = store.customer_keys() if keys is None else keys
    return pd.Series(_core.external_ids_of(keys, ids), dtype=object)


def _entries_frame(store: Any, cols: dict[str, Any], keys: Any = None) -> Any:
    import pandas as pd

    ids = np.asarray(cols["customer_id"], dtype=np.int64)
    external = (_external_ids(store, ids, keys) if store is not None
                else pd.Series([None] * len(ids), dtype=object))
    return pd.DataFrame({
        "customer_id": ids,
        "external_id": external,
        "last_contact": _utc(cols["last_contact_micros"], cols["has_last_contact"]),
        "due_at": _utc(cols["due_at_micros"]),
        "days_overdue": np.asarray(cols["days_overdue"], dtype=np.int64),
        "status": pd.Series(cols["status"], dtype=object),
        "rule": pd.Series(cols["rule"], dtype=object),
        "purpose": pd.Series(cols["purpose"], dtype=object),
        "channel": pd.Series(cols["channel"], dtype=object),
        "action": pd.Series(cols["action"], dtype=object),
        "contacts_30d": np.asarray(cols["contacts_30d"], dtype=np.int64),
        "next_contact_at": _utc(cols["next_contact_micros"], cols["has_next_contact"]),
    })


@dataclass
class DueList:
    """The due list as of a date: ``due`` (reachable now, each with its channel, most overdue
    first), ``unreachable`` (no consented channel for the purpose: never offered one) and
    ``at_limit`` (at max_contacts_per_30_days; ``next_contact_at`` says when it may be contacted
    again). Each is a DataFrame with customer_id, external_id, last_contact, due_at,
    days_overdue, status, rule, purpose, channel, action, contacts_30d, next_contact_at."""

    as_of: Any
    due: Any
    unreachable: Any
    at_limit: Any

    def __len__(self) -> int:
        return len(self.due) + len(self.unreachable) + len(self.at_limit)


def _policy(policy: Any) -> Any:
    if policy is None or isinstance(policy, _core.FollowUpPolicy):
        return policy
    return _core.FollowUpPolicy.from_json(policy)


def due_list(store: Any, as_of: Any, policy: Any = None, horizon_days: int = 0,
             channel_order: Any = None) -> DueList:
    """Store.due_list: see crmkit/analytics/engage.hpp."""
    cols = _core.due_list(store, as_of, _policy(policy), int(horizon_days),
                          None if channel_order is None else [str(c) for c in channel_order])
    keys = store.customer_keys()  # read once for the three frames
    return DueList(
        as_of=as_of,
        due=_entries_frame(store, cols["due"], keys),
        unreachable=_entries_frame(store, cols["unreachable"], keys),
        at_limit=_entries_frame(store, cols["at_limit"], keys),
    )


def _customer_ids(store: Any, customers: Any, field: str) -> list[int]:
    out = []
    for i, c in enumerate(list(customers)):
        if isinstance(c, str):
            out.append(int(store.get_customer_by_external_id(c).id))
        elif isinstance(c, _core.Customer):
            out.append(int(c.id))
        elif isinstance(c, numbers.Integral) and not isinstance(c, (bool, np.bool_)):
            out.append(int(c))
        else:
            raise ValidationError(
                f"{field}[{i}]: expected a customer id (int) or an external id (str), "
                f"got {type(c).__name__}")
    return out


class Audience:
    """A campaign audience: ``members`` (customer_id, external_id, channel, purchase_count,
    customer_class, response_probability; ascending customer id), ``unreachable``
    (customer_id, external_id: selected but without a consented channel) and ``at_limit``
    (customer_id, external_id, contacts_30d, max_contacts_per_30_days, next_contact_at: selected
    and reachable but at its contact limit, so never touched; next_contact_at is NaT for a limit
    of 0)."""

    def __init__(self, store: Any, core: Any) -> None:
        import pandas as pd

        self._core = core
        self.purpose: str = core.purpose
        cols = core.columns()
        ids = np.asarray(cols["customer_id"], dtype=np.int64)
        keys = store.customer_keys()
        self.members = pd.DataFrame({
            "customer_id": ids,
            "external_id": _external_ids(store, ids, keys),
            "channel": pd.Series(cols["channel"], dtype=object),
            "purchase_count": np.asarray(cols["purchase_count"], dtype=np.int64),
            "customer_class": pd.Series(cols["customer_class"], dtype=object),
            "response_probability": np.asarray(cols["response_probability"], dtype=np.float64),
        })
        un = np.asarray(cols["unreachable"], dtype=np.int64)
        self.unreachable = pd.DataFrame({"customer_id": un,
                                         "external_id": _external_ids(store, un, keys)})
        lim = cols["at_limit"]
        lid = np.asarray(lim["customer_id"], dtype=np.int64)
        self.at_limit = pd.DataFrame({
            "customer_id": lid,
            "external_id": _external_ids(store, lid, keys),
            "contacts_30d": np.asarray(lim["contacts_30d"], dtype=np.int64),
            "max_contacts_per_30_days": np.asarray(lim["max_contacts_per_30_days"],
                                                   dtype=np.int64),
            "next_contact_at": _utc(lim["next_contact_micros"], lim["has_next_contact"]),
        })

    def __len__(self) -> int:
        return len(self.members)

    def __repr__(self) -> str:
        return (f"Audience(purpose={self.purpose!r}, members={len(self.members)}, "
                f"unreachable={len(self.unreachable)}, at_limit={len(self.at_limit)})")


def campaign_audience(store: Any, as_of: Any, rule: Any = None, customers: Any = None,
                      purpose: str = "marketing", channels: Any = None,
                      odds: dict[str, float] | None = None) -> Audience:
    """Store.campaign_audience: see crmkit/analytics/engage.hpp."""
    if rule is not None and not isinstance(rule, str):
        rule = json_text(rule, "rule")
    ids = [] if customers is None else _customer_ids(store, customers, "customers")
    core = _core.campaign_audience(store, as_of, rule or "", ids, purpose,
                                   None if channels is None else [str(c) for c in channels], odds)
    return Audience(store, core)


def campaign_plan(audience_or_contacts: Any, cost_per_contact: Any,
                  response_rate: float | None = None) -> Any:
    """A CampaignPlan: of an Audience (its members' odds), or of ``contacts`` contacts each
    responding with ``response_rate`` (a blanket plan). ``cost_per_contact`` is a crmkit.Money."""
    if isinstance(audience_or_contacts, Audience):
        if response_rate is not None:
            raise ValidationError("response_rate: not used with an audience (its odds are)")
        return _core.campaign_plan(audience_or_contacts._core, cost_per_contact)
    if response_rate is None:
        raise ValidationError("response_rate: required for a plan of a number of contacts")
    return _core.campaign_plan(int(audience_or_contacts), cost_per_contact, float(response_rate))


def compare_plans(targeted: Any, blanket: Any) -> Any:
    """A PlanComparison: cost_saved, waste_saved, responses_lost and both plans."""
    return _core.compare_plans(targeted, blanket)


def record_campaign_touches(store: Any, name: str, touches: Any, at: Any,
                            purpose: str | None = None, *, actor: str = "",
                            source: str = "") -> list[int]:
    """Store.record_campaign_touches: ``touches`` is an Audience (each member through its
    channel, with the audience's purpose), a DataFrame with customer_id (or external_id) and
    channel columns, or a list of (customer, channel) pairs. All or nothing."""
    if isinstance(touches, Audience):
        customers = touches.members["customer_id"].tolist()
        channels = touches.members["channel"].tolist()
        purpose = purpose or touches.purpose
    elif hasattr(touches, "columns") and hasattr(touches, "__getitem__"):
        key = "customer_id" if "customer_id" in touches.columns else "external_id"
        customers = _customer_ids(store, touches[key].tolist(), "touches")
        channels = [str(c) for c in touches["channel"].tolist()]
    else:
        pairs = list(touches)
        customers = _customer_ids(store, [p[0] for p in pairs], "touches")
        channels = [str(p[1]) for p in pairs]
    return list(_core.record_campaign_touches(store, name, customers, channels, at,
                                              purpose or "marketing", actor, source))


def record_campaign_responses(store: Any, name: str, customers: Any, at: Any, *,
                              actor: str = "", source: str = "") -> list[int]:
    """Store.record_campaign_responses: customers (ids or external ids) who responded."""
    return list(_core.record_campaign_responses(
        store, name, _customer_ids(store, customers, "customers"), at, actor, source))


def campaign_report(store: Any, name: str, cost_per_contact: Any,
                    odds: dict[str, float] | None = None) -> Any:
    """Store.campaign_report: a DataFrame indexed by group (prospect, first_time, repeat, all)
    with touches, responses, response_rate, expected_response_rate, cost and
    cost_per_response (crmkit.Money, None without responses)."""
    import pandas as pd

    cols = _core.campaign_report(store, name, cost_per_contact, odds)
    frame = pd.DataFrame({
        "touches": np.asarray(cols["touches"], dtype=np.int64),
        "responses": np.asarray(cols["responses"], dtype=np.int64),
        "response_rate": np.asarray(cols["response_rate"], dtype=np.float64),
        "expected_response_rate": np.asarray(cols["expected_response_rate"], dtype=np.float64),
        "cost": np.array(list(cols["cost"]) + [None], dtype=object)[:-1],
        "cost_per_response": np.array(list(cols["cost_per_response"]) + [None], dtype=object)[:-1],
    }, index=pd.Index(cols["group"], name="group"))
    return frame


_CHANNEL_CODES = {"email": 0, "phone": 1, "sms": 2, "im": 3, "post": 4, "visit": 5}


def _channel_codes(values: Any, missing: int | None) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    out = []
    for v in arr.tolist():
        if v is None or (isinstance(v, float) and np.isnan(v)):
            if missing is None:
                raise ValidationError("channel: missing value")
            out.append(missing)
        else:
            out.append(_CHANNEL_CODES[str(v)] if str(v) in _CHANNEL_CODES
                       else int(_core.Channel.__members__[str(v)]))
    return np.asarray(out, dtype=np.int64)


def _micros(values: Any) -> np.ndarray:
    import pandas as pd

    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    at = pd.to_datetime(pd.Series(values), utc=True)
    return at.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]").astype(np.int64).to_numpy()


def due_list_from_columns(customers: Any, consents: Any, interactions: Any, as_of: Any,
                          policy: Any = None, horizon_days: int = 0) -> DueList:
    """The due list over columns, without a store (crmkit/loyalty/followup.hpp's due_list).

    ``customers``: customer_id and optionally created_at, preferred_channel (name or code, None /
    -1 = none), max_contacts_per_30_days (-1 = none). ``consents``: customer_id, channel,
    purpose, granted (bool), at. ``interactions``: customer_id, at. Times are datetimes or int64
    microseconds. Policy rules that read facts need the store-level Store.due_list. The frames'
    external_id column is None."""
    def col(frame: Any, name: str) -> Any:
        return frame[name] if name in frame else None

    n_cust = np.asarray(customers["customer_id"], dtype=np.int64)
    created = col(customers, "created_at")
    preferred = col(customers, "preferred_channel")
    limit = col(customers, "max_contacts_per_30_days")
    cols = _core.due_list_columns(
        n_cust,
        None if created is None else _micros(created),
        None if preferred is None else _channel_codes(preferred, -1).astype(np.int8),
        None if limit is None else np.asarray(limit, dtype=np.int32),
        np.asarray(consents["customer_id"], dtype=np.int64),
        _channel_codes(consents["channel"], None).astype(np.uint8),
        [str(p) for p in list(consents["purpose"])],
        np.asarray(consents["granted"], dtype=np.uint8),
        _micros(consents["at"]),
        np.asarray(interactions["customer_id"], dtype=np.int64),
        _micros(interactions["at"]),
        as_of, _policy(policy), int(horizon_days))
    return DueList(as_of=as_of, due=_entries_frame(None, cols["due"]),
                   unreachable=_entries_frame(None, cols["unreachable"]),
                   at_limit=_entries_frame(None, cols["at_limit"]))
