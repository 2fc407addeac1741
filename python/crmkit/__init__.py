"""crmkit: an embeddable customer-relationship engine (customer records, an event ledger, exact
money). The names below mirror the C++ API in core/include/crmkit/; see docs/ for the guide.

Conventions of the Python binding:
  - Money amounts are str or decimal.Decimal; floats (and ints, which are ambiguous between major
    and minor units) are refused with crmkit.ValidationError. Use Money.from_minor for ints.
  - Wherever a Timestamp is taken, a datetime.datetime (aware: converted to UTC; naive: taken as
    UTC), a pandas.Timestamp, a numpy.datetime64 or an ISO 8601 string is accepted too. Wherever a
    Date is taken, a datetime.date or "YYYY-MM-DD" is accepted.
  - List members of records (Customer.tags, Customer.contacts, ...) are returned as copies:
    ``c.tags.append("x")`` does not change ``c``; assign a new list instead.
  - Errors are subclasses of crmkit.CrmkitError (see crmkit.errors).

Value engine (crmkit/value/summary.hpp, rfm.hpp, models.hpp), with lifetimes' names:
  - crmkit.utils.summary_data_from_transaction_data, calibration_and_holdout_data,
    summary_from_store and cumulative_repeat_transactions build per-customer summaries;
  - crmkit.BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter, BetaGeoBetaBinomFitter and
    GammaGammaFitter fit and predict (crmkit.fitters);
  - crmkit.rfm_scores scores and segments customers; crmkit.datasets loads the reference data.
Arrow in and out (docs/arrow.md): the column functions take pyarrow Arrays, ChunkedArrays, Tables
and RecordBatches (without copying where the layout allows) and return pandas, pyarrow or numpy as
``output=`` asks; pyarrow is imported only then.

Rules (crmkit/rules/rules.hpp, docs/rules.md): crmkit.jsonlogic_apply runs standard JSON Logic;
crmkit.Rule compiles a strict rule against a crmkit.FactSchema and tests a row or whole columns.

Lifecycle (crmkit/lifecycle/*.hpp, docs/lifecycle.md): crmkit.Machine loads a JSON state machine
against a FactSchema (check_manual, evaluate, evaluate_columns); crmkit.default_machine loads a
shipped one; crmkit.History reports on a DataFrame of transition rows (stage as of a date, time
in stage, distribution, transition counts, funnel, median durations).
Customer facts as of a date (crmkit/analytics/facts.hpp): Store.facts, Store.customer_facts,
crmkit.facts_from_columns, crmkit.standard_facts and crmkit.window_fact (docs/facts.md).
Loyalty metrics (docs/loyalty-metrics.md): crmkit.cohort_retention over any purchase columns,
crmkit.plot_cohort_retention, and Store.cohort_retention, retention, repeat_purchase_rate, nps,
csat, referral_rate, word_of_mouth and customer_loyalty as of a date.
Segments (crmkit/analytics/segments.hpp, docs/segments.md): Store.segments, segment_drift,
segment_drift_series, mainstream_segments; crmkit.segment_drift, purchase_segments and
plot_segment_drift.
"""

from __future__ import annotations

from . import _core
from ._core import (
    AuditEntry,
    BuyingRole,
    Channel,
    Consent,
    ConsentStatus,
    ContactKind,
    ContactPoint,
    ContactPurpose,
    Currency,
    Customer,
    CustomerKind,
    Date,
    Demographics,
    EraseReport,
    Event,
    EventParticipation,
    EventType,
    FactSchema,
    FactType,
    FieldDef,
    FitReport,
    FieldType,
    ImportReport,
    Interaction,
    InteractionKind,
    LegalBasis,
    Membership,
    Money,
    Opportunity,
    Purchase,
    PurchaseColumns,
    ReferralColumns,
    RefundColumns,
    InteractionColumns,
    SurveyColumns,
    ParticipationColumns,
    CustomerKeys,
    PurchaseImport,
    Referral,
    Rule,
    Refund,
    RelationshipLevel,
    RoundingMode,
    StoreOptions,
    StoreSummary,
    SurveyResponse,
    SyncMode,
    TimeUnit,
    Timestamp,
    WriteContext,
    jsonlogic_apply,
    normalize_email,
    normalize_phone,
    probability_decimal,
    validate_customer,
    validate_event,
    validate_field_def,
)
from .errors import (
    ConflictError,
    ConsentRequiredError,
    CorruptError,
    CrmkitError,
    InvalidTransitionError,
    JsonLogicError,
    MoneyOverflowError,
    NotFoundError,
    StorageError,
    SuppressedError,
    ValidationError,
)
from .store import Store
from .lifecycle import History, Machine, default_machine, default_machine_json, default_machine_names
from . import datasets, fitters, ltv, utils
from . import value  # sufficient statistics (docs/beyond-one-machine.md)
from .fitters import (
    BetaGeoBetaBinomFitter,
    BetaGeoFitter,
    ConvergenceWarning,
    GammaGammaFitter,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
)
from . import covariates  # covariate BG/NBD and Pareto/NBD (docs/value-covariates.md)
from .covariates import BetaGeoCovariatesFitter, ParetoNBDCovariatesFitter
from .utils import default_rfm_segments, rfm_scores
from ._core import ValueMethod, model_threads, set_model_threads
from .ltv import CalibrationValidation, calibration_vs_holdout, lifetime_value_parts
from . import facts
from .facts import facts_from_columns, standard_facts, window_fact
from . import points
from .points import PointsAccountView, PointsProgram, replay_points, replay_points_account
# loyalty metrics (issue 8 item 2)
from . import loyalty_metrics
from .loyalty_metrics import CohortRetention, cohort_retention, plot_cohort_retention
# segments and drift (issue 8 item 3)
from .segments import plot_segment_drift, purchase_segments, rfm_segment_names, segment_drift
# engagement (follow-up and campaigns)
from .engage import (
    Audience,
    CampaignPlan,
    DueList,
    FollowUpPolicy,
    PlanComparison,
    campaign_plan,
    compare_plans,
    due_list_from_columns,
)
# end of engagement
# contractual customers: sBG and BdW (issue 11 item 3)
from . import contractual
from .contractual import BetaDiscreteWeibullFitter, ShiftedBetaGeometricFitter, survivors_from_lost

__version__: str = _core.__version__

__all__ = [
    "__version__",
    # errors
    "CrmkitError",
    "ValidationError",
    "NotFoundError",
    "ConflictError",
    "SuppressedError",
    "InvalidTransitionError",
    "ConsentRequiredError",
    "MoneyOverflowError",
    "StorageError",
    "CorruptError",
    "JsonLogicError",
    # money and time
    "RoundingMode",
    "Currency",
    "Money",
    "Timestamp",
    "Date",
    # records
    "CustomerKind",
    "ContactKind",
    "Channel",
    "ConsentStatus",
    "LegalBasis",
    "BuyingRole",
    "RelationshipLevel",
    "FieldType",
    "ContactPoint",
    "Consent",
    "Demographics",
    "Membership",
    "FieldDef",
    "Customer",
    "validate_customer",
    "validate_field_def",
    "normalize_email",
    "normalize_phone",
    # events
    "InteractionKind",
    "ContactPurpose",
    "EventType",
    "Purchase",
    "Refund",
    "Interaction",
    "Referral",
    "SurveyResponse",
    "EventParticipation",
    "Event",
    "validate_event",
    # store
    "SyncMode",
    "StoreOptions",
    "WriteContext",
    "AuditEntry",
    "PurchaseColumns",
    "ReferralColumns",
    "RefundColumns",
    "InteractionColumns",
    "SurveyColumns",
    "ParticipationColumns",
    "CustomerKeys",
    "PurchaseImport",
    "ImportReport",
    "StoreSummary",
    "EraseReport",
    "Store",
    # lifecycle engine and opportunities (docs/lifecycle-store.md)
    "Opportunity",
    "probability_decimal",
    # value engine
    "utils",
    "fitters",
    "value",
    "datasets",
    "TimeUnit",
    "FitReport",
    "ConvergenceWarning",
    "BetaGeoFitter",
    "ModifiedBetaGeoFitter",
    "ParetoNBDFitter",
    "BetaGeoBetaBinomFitter",
    "GammaGammaFitter",
    "covariates",
    "BetaGeoCovariatesFitter",
    "ParetoNBDCovariatesFitter",
    "rfm_scores",
    "default_rfm_segments",
    "set_model_threads",
    "model_threads",
    # lifetime value and validation
    "ValueMethod",
    "lifetime_value_parts",
    "calibration_vs_holdout",
    "CalibrationValidation",
    # rules (JSON Logic)
    "FactType",
    "FactSchema",
    "Rule",
    "jsonlogic_apply",
    # lifecycle machines and history
    "Machine",
    "History",
    "default_machine",
    "default_machine_names",
    "default_machine_json",
    # customer facts as of a date
    "facts",
    "facts_from_columns",
    "standard_facts",
    "window_fact",
    # loyalty points (docs/points.md)
    "points",
    "PointsProgram",
    "PointsAccountView",
    "replay_points",
    "replay_points_account",
    # loyalty metrics (issue 8 item 2)
    "loyalty_metrics",
    "CohortRetention",
    "cohort_retention",
    "plot_cohort_retention",
    # segments and drift (issue 8 item 3)
    "segment_drift",
    "purchase_segments",
    "plot_segment_drift",
    "rfm_segment_names",
    # engagement (follow-up and campaigns)
    "FollowUpPolicy",
    "DueList",
    "Audience",
    "CampaignPlan",
    "PlanComparison",
    "campaign_plan",
    "compare_plans",
    "due_list_from_columns",
    # contractual customers: sBG and BdW (issue 11 item 3)
    "contractual",
    "ShiftedBetaGeometricFitter",
    "BetaDiscreteWeibullFitter",
    "survivors_from_lost",
]
