"""Lifetime value in three parts, and calibration-vs-holdout validation, for pandas users.

``lifetime_value_parts`` returns one row per customer with its historical value (net revenue to
date, exact), current value (expected revenue over a horizon, from the fitted models or from the
run rate, and which), potential value (converted referrals and uplift) and the total, as
``decimal.Decimal``. ``calibration_vs_holdout`` compares a transaction model's holdout predictions
with what customers did. Both only convert columns and call the C++ core (ltv.hpp,
validation.hpp; from a Store, analytics.hpp does the whole pipeline); every rule lives there.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import _core, utils
from .errors import ValidationError

__all__ = ["lifetime_value_parts", "calibration_vs_holdout", "CalibrationValidation"]

_METHODS = ["model", "run_rate"]  # ValueMethod codes 0, 1


# ---- conversions --------------------------------------------------------------------------


def _core_model(model: Any, argument: str, core_type: Any) -> Any:
    """The C++ model of a crmkit fitter (its fitted ``_model``), or a C++ model as is."""
    if isinstance(model, core_type):
        return model
    fitted = getattr(model, "_fitted", None)
    if callable(fitted):
        inner = fitted()
        if isinstance(inner, core_type):
            return inner
    raise ValidationError(
        f"{argument}: expected a fitted crmkit fitter or a crmkit._core.{core_type.__name__}, "
        f"got {type(model).__name__}"
    )


def _rounding(value: Any) -> Any:
    if isinstance(value, _core.RoundingMode):
        return value
    if isinstance(value, str) and value in _core.RoundingMode.__members__:
        return _core.RoundingMode.__members__[value]
    raise ValidationError(
        f"rounding: expected a crmkit.RoundingMode or one of "
        f"{', '.join(_core.RoundingMode.__members__)}, got {value!r}"
    )


def _currency(value: Any) -> Any:
    if isinstance(value, _core.Currency):
        return value
    if isinstance(value, str):
        return _core.Currency.of(value)
    raise ValidationError(f"currency: expected an ISO 4217 code or crmkit.Currency, got {value!r}")


def _minor_units(values: Any, currency: Any, field: str) -> np.ndarray:
    """Exact minor units of a money column (str / decimal.Decimal / crmkit.Money values); the
    rule (no floats, no ints, one currency) is the binding's, shared with Money() and
    Store.import_purchases."""
    return _core.money_minor_units(list(values), currency, field)


def _decimals(minor: np.ndarray, scale: int) -> list[decimal.Decimal]:
    return [decimal.Decimal(int(v)).scaleb(-scale) for v in minor]


def _time_unit(freq: Any) -> Any:
    if not isinstance(freq, str):
        raise ValidationError(f"freq: expected 'H', 'h', 'D', 'W' or 'M', got {freq!r}")
    return _core.parse_time_unit(freq, "freq")


def _end_micros(value: Any) -> Any:
    if value is None:
        return None
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts


@dataclass
class _Inputs:
    """Per-customer columns for the core, with the customer ids to report."""

    codes: np.ndarray  # int64 ids passed to the core
    labels: Any  # the ids to report (same order)
    frequency: np.ndarray
    recency: np.ndarray
    T: np.ndarray
    monetary_value: np.ndarray
    historical_minor: np.ndarray
    currency: Any
    referrer: np.ndarray
    referred: np.ndarray


def _summarise(
    ids: np.ndarray,
    micros: np.ndarray,
    net_minor: np.ndarray,
    currency: Any,
    freq: str,
    freq_multiplier: float,
    observation_period_end: Any,
) -> dict[str, np.ndarray]:
    """The core's summary and historical value over the same purchase rows, joined by id."""
    end = _end_micros(observation_period_end)
    if end is not None and micros.size:
        end_us = int(end.value // 1000)
        late = np.flatnonzero(micros > end_us)
        if late.size:
            raise ValidationError(
                f"observation_period_end: purchase row {int(late[0])} is after it; LTV's "
                "historical value counts every purchase row, so pass the rows up to the end only"
            )
    summary = _core.summary_data_from_transaction_data(
        ids,
        micros,
        amounts_minor=net_minor,
        scale=currency.minor_units,
        unit=_time_unit(freq),
        multiplier=float(freq_multiplier),
        observation_period_end=end,
    )
    history = _core.historical_value(ids, net_minor, np.zeros_like(net_minor), currency)
    # Both are sorted by customer id over the same rows, so they align row by row.
    if not np.array_equal(summary["customer_id"], history["customer_id"]):
        raise ValidationError("customer_id: the summary and the historical value disagree")
    summary["historical_minor"] = history["net_minor"]
    return summary


def _referral_columns(referrals: Any) -> tuple[Any, Any]:
    if referrals is None:
        return [], []
    if isinstance(referrals, pd.DataFrame):
        for name in ("referrer_id", "referred_id"):
            if name not in referrals.columns:
                raise ValidationError(f"referrals: no column {name!r}")
        return list(referrals["referrer_id"]), list(referrals["referred_id"])
    try:
        referrer, referred = referrals
    except (TypeError, ValueError):
        raise ValidationError(
            "referrals: expected a DataFrame with referrer_id and referred_id, or a pair of "
            "sequences"
        ) from None
    return list(referrer), list(referred)


def _encode_referrals(referrals: Any, labels: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Referral ids as the core's customer codes; ids that are not rows become -1 (referrer) or
    -2 (referred), which no row has, so the core treats them as not converted / ignored."""
    referrer, referred = _referral_columns(referrals)
    if len(referrer) != len(referred):
        raise ValidationError(
            f"referred_id: length {len(referred)} differs from referrer_id ({len(referrer)})"
        )
    a = labels.get_indexer(pd.Index(referrer)) if referrer else np.empty(0, dtype=np.int64)
    b = labels.get_indexer(pd.Index(referred)) if referred else np.empty(0, dtype=np.int64)
    a = np.where(a < 0, -1, a).astype(np.int64)
    b = np.where(b < 0, -2, b).astype(np.int64)
    return a, b


def _from_transactions(frame: pd.DataFrame, referrals: Any, currency: Any, customer_id_col: str,
                       datetime_col: str, monetary_value_col: str, refunded_col: str | None,
                       freq: str, freq_multiplier: float, observation_period_end: Any,
                       datetime_format: str | None) -> _Inputs:
    for argument, name in (("customer_id_col", customer_id_col), ("datetime_col", datetime_col),
                           ("monetary_value_col", monetary_value_col)):
        if name not in frame.columns:
            raise ValidationError(f"{argument}: no column {name!r} in the frame")
    if currency is None:
        raise ValidationError("currency: required with a transaction frame (e.g. 'USD')")
    currency = _currency(currency)
    ids = frame[customer_id_col]
    if ids.isna().any():
        row = int(np.flatnonzero(ids.isna().to_numpy())[0])
        raise ValidationError(f"customer_id_col[{row}]: is missing")
    try:
        codes, uniques = pd.factorize(ids, sort=True)
    except TypeError:
        codes, uniques = pd.factorize(ids, sort=False)
    codes = codes.astype(np.int64, copy=False)
    amount = _minor_units(list(frame[monetary_value_col]), currency, monetary_value_col)
    if refunded_col is not None:
        if refunded_col not in frame.columns:
            raise ValidationError(f"refunded_col: no column {refunded_col!r} in the frame")
        refunded = _minor_units(list(frame[refunded_col]), currency, refunded_col)
    else:
        refunded = np.zeros_like(amount)
    # The core checks refunds against amounts and amounts >= 0.
    _core.historical_value(codes, amount, refunded, currency)
    net = amount - refunded
    times = utils._micros(frame[datetime_col], "datetime_col", datetime_format)
    s = _summarise(codes, times, net, currency, freq, freq_multiplier, observation_period_end)
    labels = pd.Index(uniques).take(s["customer_id"])
    referrer, referred = _encode_referrals(referrals, pd.Index(uniques))
    return _Inputs(s["customer_id"], labels, s["frequency"].astype(np.float64), s["recency"],
                   s["T"], s["monetary_value"], s["historical_minor"], currency, referrer,
                   referred)


def _from_summary(frame: pd.DataFrame, referrals: Any, currency: Any) -> _Inputs:
    if currency is None:
        raise ValidationError("currency: required with a summary frame (e.g. 'USD')")
    currency = _currency(currency)
    labels = frame.index if "customer_id" not in frame.columns else pd.Index(frame["customer_id"])
    codes = np.arange(len(frame), dtype=np.int64)
    if "historical_minor" in frame.columns:
        hist = frame["historical_minor"].to_numpy(dtype=np.int64)
    else:
        hist = _minor_units(list(frame["historical"]), currency, "historical")
    referrer, referred = _encode_referrals(referrals, pd.Index(labels))
    return _Inputs(codes, labels, frame["frequency"].to_numpy(dtype=np.float64),
                   frame["recency"].to_numpy(dtype=np.float64),
                   frame["T"].to_numpy(dtype=np.float64),
                   frame["monetary_value"].to_numpy(dtype=np.float64), hist, currency, referrer,
                   referred)


# ---- lifetime value -----------------------------------------------------------------------


def lifetime_value_parts(
    store_or_frame: Any,
    transaction_model: Any,
    spend_model: Any,
    horizon: float,
    *,
    referrals: Any = None,
    currency: Any = None,
    freq: str = "D",
    freq_multiplier: float = 1,
    observation_period_end: Any = None,
    customer_id_col: str = "customer_id",
    datetime_col: str = "date",
    monetary_value_col: str = "amount",
    refunded_col: str | None = None,
    datetime_format: str | None = None,
    discount_rate: float = 0.0,
    discount_step: float = 1.0,
    min_repeat_purchases: int = 1,
    min_tenure: float = 0.0,
    run_rate_tenure_floor: float = 1.0,
    referral_value: Any = None,
    uplift: Any = "0",
    rounding: Any = "half_even",
) -> pd.DataFrame:
    """Historical, current and potential value and their total, one row per customer.

    store_or_frame is one of:
      - a crmkit.Store: its purchases (net of refunds) at or before ``observation_period_end``
        (all of them when it is None) and, unless ``referrals`` is given (as store customer ids),
        its referral events; one call of the C++ analytics layer
        (crmkit/analytics/analytics.hpp), so a C++ host gets the same numbers. Purchases after
        the end are left out of every part: the value as of that date;
      - a transaction DataFrame (customer_id_col, datetime_col, monetary_value_col and optionally
        refunded_col; money as str or decimal.Decimal) with ``currency``; a datetime column of
        numbers (19970101) needs ``datetime_format`` ("%Y%m%d"), as in crmkit.utils;
      - a per-customer summary DataFrame with frequency, recency, T, monetary_value and
        ``historical`` (str / decimal.Decimal) or ``historical_minor`` (int), indexed by customer
        id (or with a customer_id column), with ``currency``.
    The summary's time unit (``freq``, ``freq_multiplier``) must be the one the transaction model
    was fitted in; ``horizon`` (and discount_step, min_tenure, run_rate_tenure_floor) are in that
    unit and discount_rate is per unit. transaction_model is a fitted crmkit BetaGeoFitter,
    ModifiedBetaGeoFitter, ParetoNBDFitter or BetaGeoBetaBinomFitter (or a crmkit._core model);
    spend_model a fitted GammaGammaFitter (or crmkit._core.GammaGammaModel).
    referrals: a DataFrame with referrer_id and referred_id, or a pair of sequences; a referral is
    converted when its referred customer bought. referral_value: a crmkit.Money, str or Decimal
    for the value of one converted referral (default: the mean historical value of converted
    referred customers). uplift: str / Decimal rate applied to current value (default "0").

    Returns a DataFrame with customer_id, historical, current, potential, total
    (decimal.Decimal), method ("model" or "run_rate") and converted_referrals; from a Store also
    external_id (str, after customer_id), with rows in ascending customer id. ``attrs`` holds
    the currency code and the referral value used.
    """
    if isinstance(store_or_frame, _core.Store):
        return _parts_from_store(
            store_or_frame, transaction_model, spend_model, horizon, referrals=referrals,
            freq=freq, freq_multiplier=freq_multiplier,
            observation_period_end=observation_period_end, discount_rate=discount_rate,
            discount_step=discount_step, min_repeat_purchases=min_repeat_purchases,
            min_tenure=min_tenure, run_rate_tenure_floor=run_rate_tenure_floor,
            referral_value=referral_value, uplift=uplift, rounding=rounding,
        )
    if isinstance(store_or_frame, pd.DataFrame):
        if {"frequency", "recency", "T", "monetary_value"} <= set(store_or_frame.columns):
            inputs = _from_summary(store_or_frame, referrals, currency)
        else:
            inputs = _from_transactions(store_or_frame, referrals, currency, customer_id_col,
                                        datetime_col, monetary_value_col, refunded_col, freq,
                                        freq_multiplier, observation_period_end, datetime_format)
    else:
        raise ValidationError(
            "store_or_frame: expected a crmkit.Store or a pandas DataFrame, got "
            f"{type(store_or_frame).__name__}"
        )
    cur = inputs.currency
    referral_value = _referral_money(referral_value, cur)
    _check_uplift(uplift)
    out = _core.lifetime_value(
        inputs.codes, inputs.frequency, inputs.recency, inputs.T, inputs.monetary_value,
        inputs.historical_minor, cur,
        _core_model(transaction_model, "transaction_model", _core.TransactionModel),
        _core_model(spend_model, "spend_model", _core.GammaGammaModel),
        float(horizon), inputs.referrer, inputs.referred,
        discount_rate=float(discount_rate), discount_step=float(discount_step),
        min_repeat_purchases=int(min_repeat_purchases), min_tenure=float(min_tenure),
        run_rate_tenure_floor=float(run_rate_tenure_floor), referral_value=referral_value,
        uplift=uplift, rounding=_rounding(rounding),
    )
    return _parts_frame(out, {"customer_id": np.asarray(inputs.labels)})


def _referral_money(referral_value: Any, currency: Any) -> Any:
    if referral_value is None:
        return None
    return _core.money_of(referral_value, currency, "referral_value")


def _check_uplift(uplift: Any) -> None:
    if isinstance(uplift, (float, np.floating)):
        raise ValidationError(
            "uplift: binary floating-point numbers are not accepted; pass str or decimal.Decimal"
        )


def _parts_frame(out: dict[str, Any], keys: dict[str, Any]) -> pd.DataFrame:
    """The core's lifetime value columns as the documented DataFrame, keys first."""
    cur = out["currency"]
    scale = cur.minor_units
    frame = pd.DataFrame(
        {
            **keys,
            "historical": _decimals(out["historical_minor"], scale),
            "current": _decimals(out["current_minor"], scale),
            "potential": _decimals(out["potential_minor"], scale),
            "total": _decimals(out["total_minor"], scale),
            "method": pd.Categorical.from_codes(out["method_code"].astype(np.int8),
                                                categories=_METHODS),
            "converted_referrals": out["converted_referrals"],
        }
    )
    frame.attrs["currency"] = str(cur.code)
    frame.attrs["referral_value"] = out["referral_value"].amount
    return frame


def _parts_from_store(store: Any, transaction_model: Any, spend_model: Any, horizon: float, *,
                      referrals: Any, freq: str, freq_multiplier: float,
                      observation_period_end: Any, discount_rate: float, discount_step: float,
                      min_repeat_purchases: int, min_tenure: float, run_rate_tenure_floor: float,
                      referral_value: Any, uplift: Any, rounding: Any) -> pd.DataFrame:
    """lifetime_value_parts of a Store: one call of the C++ analytics layer (analytics.hpp)."""
    referral_value = _referral_money(referral_value, store.currency)
    _check_uplift(uplift)
    referrer = referred = None
    if referrals is not None:
        r, d = _referral_columns(referrals)
        referrer, referred = np.asarray(r, dtype=np.int64), np.asarray(d, dtype=np.int64)
    out = _core.lifetime_value_parts(
        store,
        _core_model(transaction_model, "transaction_model", _core.TransactionModel),
        _core_model(spend_model, "spend_model", _core.GammaGammaModel),
        float(horizon), referrer_ids=referrer, referred_ids=referred,
        unit=_time_unit(freq), multiplier=float(freq_multiplier),
        observation_period_end=_end_micros(observation_period_end),
        discount_rate=float(discount_rate), discount_step=float(discount_step),
        min_repeat_purchases=int(min_repeat_purchases), min_tenure=float(min_tenure),
        run_rate_tenure_floor=float(run_rate_tenure_floor), referral_value=referral_value,
        uplift=uplift, rounding=_rounding(rounding),
    )
    return _parts_frame(out, {"customer_id": out["customer_id"],
                              "external_id": pd.Series(out["external_id"], dtype=object)})


# ---- validation ---------------------------------------------------------------------------


@dataclass
class CalibrationValidation:
    """The result of calibration_vs_holdout (validation.hpp): per customer, per bucket, totals
    and error measures (e = predicted - actual; MAE = mean |e|, RMSE = sqrt(mean e^2),
    bias = mean e, total_relative_error = (sum predicted - sum actual) / sum actual, None when
    sum actual is 0)."""

    customers: pd.DataFrame  # frequency_cal, predicted, actual, error
    buckets: pd.DataFrame  # index "0".."k-1", "k+": count, mean_predicted, mean_actual
    total_predicted: float
    total_actual: float
    mae: float
    rmse: float
    bias: float
    total_relative_error: float | None

    def summary(self) -> pd.Series:
        """The totals and error measures as one Series."""
        return pd.Series(
            {
                "total_predicted": self.total_predicted,
                "total_actual": self.total_actual,
                "mae": self.mae,
                "rmse": self.rmse,
                "bias": self.bias,
                "total_relative_error": self.total_relative_error,
            },
            dtype=object,
        )


def calibration_vs_holdout(
    transaction_model: Any,
    calibration_holdout: pd.DataFrame,
    *,
    predicted: Any = None,
    buckets: int = 7,
) -> CalibrationValidation:
    """Compares holdout predictions with actual holdout purchases.

    calibration_holdout is crmkit.utils.calibration_and_holdout_data's frame (frequency_cal,
    recency_cal, T_cal, frequency_holdout, duration_holdout). The model (a fitted crmkit
    fitter or crmkit._core model, fitted in the frame's time unit) predicts each customer's
    purchases over duration_holdout; or pass ``predicted`` (one value per row) and
    transaction_model=None. Buckets are frequency_cal = 0 .. buckets-1 and "buckets+".
    """
    frame = calibration_holdout
    if not isinstance(frame, pd.DataFrame):
        raise ValidationError(
            f"calibration_holdout: expected a pandas DataFrame, got {type(frame).__name__}"
        )
    need = ["frequency_cal", "frequency_holdout"]
    if predicted is None:
        need += ["recency_cal", "T_cal", "duration_holdout"]
    for name in need:
        if name not in frame.columns:
            raise ValidationError(f"calibration_holdout: no column {name!r}")
    x = frame["frequency_cal"].to_numpy(dtype=np.float64)
    actual = frame["frequency_holdout"].to_numpy(dtype=np.float64)
    if predicted is None:
        if transaction_model is None:
            raise ValidationError("transaction_model: required when predicted is not given")
        durations = frame["duration_holdout"].to_numpy(dtype=np.float64)
        duration = float(durations[0]) if durations.size else 0.0
        if durations.size and not np.all(durations == duration):
            raise ValidationError("duration_holdout: must be the same for every row")
        out = _core.calibration_vs_holdout(
            _core_model(transaction_model, "transaction_model", _core.TransactionModel), x,
            frame["recency_cal"].to_numpy(dtype=np.float64),
            frame["T_cal"].to_numpy(dtype=np.float64), actual, duration, buckets=int(buckets))
    else:
        out = _core.calibration_vs_holdout(
            x, np.asarray(predicted, dtype=np.float64), actual, buckets=int(buckets))
    customers = pd.DataFrame(
        {"frequency_cal": x, "predicted": out["predicted"], "actual": out["actual"],
         "error": out["error"]},
        index=frame.index,
    )
    k = len(out["bucket_frequency"]) - 1
    labels = [str(int(f)) for f in out["bucket_frequency"][:-1]] + [f"{k}+"]
    bucket_frame = pd.DataFrame(
        {"count": out["bucket_count"], "mean_predicted": out["bucket_mean_predicted"],
         "mean_actual": out["bucket_mean_actual"]},
        index=pd.Index(labels, name="frequency_cal"),
    )
    return CalibrationValidation(customers, bucket_frame, out["total_predicted"],
                                 out["total_actual"], out["mae"], out["rmse"], out["bias"],
                                 out["total_relative_error"])
