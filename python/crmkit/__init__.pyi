# Type stub of the crmkit package (the compiled crmkit._core plus the Python modules).
import datetime
import decimal
import enum
import os
from typing import Any, ClassVar, Iterable, Literal, Sequence, SupportsIndex, overload

import numpy as np
import numpy.typing as npt
import pandas as pd

from .errors import (
    ConflictError as ConflictError,
    ConsentRequiredError as ConsentRequiredError,
    CorruptError as CorruptError,
    CrmkitError as CrmkitError,
    InvalidTransitionError as InvalidTransitionError,
    JsonLogicError as JsonLogicError,
    MoneyOverflowError as MoneyOverflowError,
    NotFoundError as NotFoundError,
    StorageError as StorageError,
    SuppressedError as SuppressedError,
    ValidationError as ValidationError,
)

__version__: str
__all__: list[str]

# Anything accepted where a Timestamp is expected: naive datetimes are taken as UTC.
TimestampLike = Timestamp | datetime.datetime | pd.Timestamp | np.datetime64 | str
DateLike = Date | datetime.date | str
CurrencyLike = Currency | str
DecimalLike = decimal.Decimal | str
FieldValueLike = bool | int | str | decimal.Decimal | Money | datetime.date
PathLike = str | os.PathLike[str]

class _Enum(enum.IntEnum): ...

# ---- money ----

class RoundingMode(_Enum):
    half_even: ClassVar[RoundingMode]
    half_up: ClassVar[RoundingMode]
    half_down: ClassVar[RoundingMode]
    down: ClassVar[RoundingMode]
    up: ClassVar[RoundingMode]
    floor: ClassVar[RoundingMode]
    ceiling: ClassVar[RoundingMode]

class Currency:
    def __init__(self, code: str) -> None: ...
    @staticmethod
    def of(code: str) -> Currency: ...
    @staticmethod
    def is_known(code: str) -> bool: ...
    @staticmethod
    def holds_money(code: str) -> bool: ...
    @staticmethod
    def all() -> list[Currency]: ...
    @property
    def code(self) -> str: ...
    @property
    def numeric_code(self) -> int: ...
    @property
    def minor_units(self) -> int: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class Money:
    def __init__(self, amount: DecimalLike, currency: CurrencyLike) -> None: ...
    @staticmethod
    def parse(text: str, currency: CurrencyLike, field: str = "amount") -> Money: ...
    @staticmethod
    def parse_with_currency(text: str, field: str = "amount") -> Money: ...
    @staticmethod
    def from_minor(minor_units: int, currency: CurrencyLike) -> Money: ...
    @staticmethod
    def from_model_value(
        value: float, currency: CurrencyLike, rounding: RoundingMode = ...
    ) -> Money: ...
    @property
    def amount(self) -> decimal.Decimal: ...
    @property
    def minor_units(self) -> int: ...
    @property
    def currency(self) -> Currency: ...
    def is_zero(self) -> bool: ...
    def is_negative(self) -> bool: ...
    def is_positive(self) -> bool: ...
    def amount_string(self) -> str: ...
    def to_string(self) -> str: ...
    def to_double(self) -> float: ...
    def multiply(self, rate: DecimalLike | int, rounding: RoundingMode = ...) -> Money: ...
    def allocate(self, ratios: Sequence[int] | int) -> list[Money]: ...
    def __add__(self, other: Money) -> Money: ...
    def __sub__(self, other: Money) -> Money: ...
    def __neg__(self) -> Money: ...
    def __pos__(self) -> Money: ...
    def __abs__(self) -> Money: ...
    def __mul__(self, factor: int) -> Money: ...
    def __rmul__(self, factor: int) -> Money: ...
    def __eq__(self, other: object) -> bool: ...
    def __ne__(self, other: object) -> bool: ...
    def __lt__(self, other: Money) -> bool: ...
    def __le__(self, other: Money) -> bool: ...
    def __gt__(self, other: Money) -> bool: ...
    def __ge__(self, other: Money) -> bool: ...
    def __bool__(self) -> bool: ...
    def __hash__(self) -> int: ...

# ---- time ----

class Timestamp:
    def __init__(self, value: TimestampLike) -> None: ...
    @staticmethod
    def parse(text: str, field: str = "time") -> Timestamp: ...
    @staticmethod
    def from_micros(micros: int) -> Timestamp: ...
    @staticmethod
    def from_seconds(seconds: int) -> Timestamp: ...
    @staticmethod
    def now() -> Timestamp: ...
    @property
    def micros(self) -> int: ...
    def to_string(self) -> str: ...
    def to_datetime(self) -> datetime.datetime: ...
    def date(self) -> Date: ...
    def __lt__(self, other: TimestampLike) -> bool: ...
    def __le__(self, other: TimestampLike) -> bool: ...
    def __gt__(self, other: TimestampLike) -> bool: ...
    def __ge__(self, other: TimestampLike) -> bool: ...
    def __hash__(self) -> int: ...

class Date:
    def __init__(self, *args: Any) -> None:
        """Date(datetime.date | "YYYY-MM-DD") or Date(year, month, day)."""
    @staticmethod
    def parse(text: str, field: str = "date") -> Date: ...
    @staticmethod
    def from_days_since_epoch(days: int) -> Date: ...
    def days_since_epoch(self) -> int: ...
    @property
    def year(self) -> int: ...
    @property
    def month(self) -> int: ...
    @property
    def day(self) -> int: ...
    def start(self) -> Timestamp: ...
    def to_string(self) -> str: ...
    def to_date(self) -> datetime.date: ...
    def __lt__(self, other: DateLike) -> bool: ...
    def __le__(self, other: DateLike) -> bool: ...
    def __gt__(self, other: DateLike) -> bool: ...
    def __ge__(self, other: DateLike) -> bool: ...
    def __hash__(self) -> int: ...

# ---- records ----

class CustomerKind(_Enum):
    person: ClassVar[CustomerKind]
    organisation: ClassVar[CustomerKind]

class ContactKind(_Enum):
    email: ClassVar[ContactKind]
    phone: ClassVar[ContactKind]
    im: ClassVar[ContactKind]
    postal: ClassVar[ContactKind]

class Channel(_Enum):
    email: ClassVar[Channel]
    phone: ClassVar[Channel]
    sms: ClassVar[Channel]
    im: ClassVar[Channel]
    post: ClassVar[Channel]
    visit: ClassVar[Channel]

class ConsentStatus(_Enum):
    granted: ClassVar[ConsentStatus]
    withdrawn: ClassVar[ConsentStatus]

class LegalBasis(_Enum):
    consent: ClassVar[LegalBasis]
    contract: ClassVar[LegalBasis]
    legal_obligation: ClassVar[LegalBasis]
    vital_interests: ClassVar[LegalBasis]
    public_task: ClassVar[LegalBasis]
    legitimate_interests: ClassVar[LegalBasis]

class BuyingRole(_Enum):
    acceptor: ClassVar[BuyingRole]
    dissatisfied: ClassVar[BuyingRole]
    power_holder: ClassVar[BuyingRole]

class RelationshipLevel(_Enum):
    acquaintance: ClassVar[RelationshipLevel]
    dating: ClassVar[RelationshipLevel]
    partner: ClassVar[RelationshipLevel]
    ally: ClassVar[RelationshipLevel]

class FieldType(_Enum):
    text: ClassVar[FieldType]
    integer: ClassVar[FieldType]
    decimal: ClassVar[FieldType]
    money: ClassVar[FieldType]
    date: ClassVar[FieldType]
    boolean: ClassVar[FieldType]
    enumeration: ClassVar[FieldType]

class _Struct:
    _fields: ClassVar[tuple[str, ...]]
    def __eq__(self, other: object) -> bool: ...

class ContactPoint(_Struct):
    kind: ContactKind
    value: str
    label: str
    primary: bool
    def __init__(
        self, *, kind: ContactKind = ..., value: str = "", label: str = "", primary: bool = False
    ) -> None: ...

class Consent(_Struct):
    channel: Channel
    purpose: str
    status: ConsentStatus
    @property
    def at(self) -> Timestamp: ...
    @at.setter
    def at(self, value: TimestampLike) -> None: ...
    source: str
    legal_basis: LegalBasis
    def __init__(
        self,
        *,
        channel: Channel = ...,
        purpose: str = "",
        status: ConsentStatus = ...,
        at: TimestampLike = ...,
        source: str = "",
        legal_basis: LegalBasis = ...,
    ) -> None: ...

class Demographics(_Struct):
    region: str
    gender: str
    @property
    def birth_date(self) -> Date | None: ...
    @birth_date.setter
    def birth_date(self, value: DateLike | None) -> None: ...
    occupation: str
    interests: list[str]
    marital_status: str
    household_size: int | None
    def __init__(
        self,
        *,
        region: str = "",
        gender: str = "",
        birth_date: DateLike | None = None,
        occupation: str = "",
        interests: list[str] = ...,
        marital_status: str = "",
        household_size: int | None = None,
    ) -> None: ...

class Membership(_Struct):
    organisation: int
    roles: list[BuyingRole]
    level: RelationshipLevel
    title: str
    def __init__(
        self,
        *,
        organisation: int = 0,
        roles: list[BuyingRole] = ...,
        level: RelationshipLevel = ...,
        title: str = "",
    ) -> None: ...

class FieldDef(_Struct):
    name: str
    type: FieldType
    enum_values: list[str]
    currency: str
    required: bool
    personal: bool
    description: str
    def __init__(
        self,
        *,
        name: str = "",
        type: FieldType = ...,
        enum_values: list[str] = ...,
        currency: str = "",
        required: bool = False,
        personal: bool = False,
        description: str = "",
    ) -> None: ...
    @staticmethod
    def from_json(text: str) -> FieldDef: ...
    def to_json(self) -> str: ...

class Customer(_Struct):
    """List members are copies: assign a new list instead of mutating one in place."""

    id: int
    external_id: str
    kind: CustomerKind
    name: str
    demographics: Demographics
    contacts: list[ContactPoint]
    consents: list[Consent]
    preferred_channel: Channel | None
    max_contacts_per_30_days: int | None
    tags: list[str]
    owner: str
    acquisition_source: str
    custom: dict[str, Any]
    memberships: list[Membership]
    created_at: Timestamp
    updated_at: Timestamp
    deleted: bool
    erased: bool
    def __init__(
        self,
        *,
        id: int = 0,
        external_id: str = "",
        kind: CustomerKind = ...,
        name: str = "",
        demographics: Demographics = ...,
        contacts: list[ContactPoint] = ...,
        consents: list[Consent] = ...,
        preferred_channel: Channel | None = None,
        max_contacts_per_30_days: int | None = None,
        tags: list[str] = ...,
        owner: str = "",
        acquisition_source: str = "",
        custom: dict[str, FieldValueLike] = ...,
        memberships: list[Membership] = ...,
        created_at: TimestampLike = ...,
        updated_at: TimestampLike = ...,
        deleted: bool = False,
        erased: bool = False,
    ) -> None: ...
    def has_consent(self, channel: Channel, purpose: str) -> bool: ...
    def primary_contact(self, kind: ContactKind) -> ContactPoint | None: ...
    @staticmethod
    def from_json(text: str) -> Customer: ...
    def to_json(self) -> str: ...

def validate_customer(
    customer: Customer, fields: list[FieldDef], store_currency: CurrencyLike
) -> Customer: ...
def validate_field_def(definition: FieldDef) -> None: ...
def normalize_email(email: str, field: str = "email") -> str: ...
def normalize_phone(phone: str, field: str = "phone") -> str: ...

# ---- events ----

class InteractionKind(_Enum):
    call: ClassVar[InteractionKind]
    visit: ClassVar[InteractionKind]
    email: ClassVar[InteractionKind]
    message: ClassVar[InteractionKind]
    gift: ClassVar[InteractionKind]
    hospitality: ClassVar[InteractionKind]
    site_visit: ClassVar[InteractionKind]
    event: ClassVar[InteractionKind]
    meeting: ClassVar[InteractionKind]
    other: ClassVar[InteractionKind]

class ContactPurpose(_Enum):
    care: ClassVar[ContactPurpose]
    information: ClassVar[ContactPurpose]
    deal: ClassVar[ContactPurpose]
    service: ClassVar[ContactPurpose]
    intelligence: ClassVar[ContactPurpose]

class EventType(_Enum):
    purchase: ClassVar[EventType]
    refund: ClassVar[EventType]
    interaction: ClassVar[EventType]
    referral: ClassVar[EventType]
    survey_response: ClassVar[EventType]
    event_participation: ClassVar[EventType]

class Purchase(_Struct):
    order_id: str
    amount: Money
    category: str
    essential: bool
    item_count: int
    def __init__(
        self,
        *,
        order_id: str = "",
        amount: Money = ...,
        category: str = "",
        essential: bool = True,
        item_count: int = 1,
    ) -> None: ...

class Refund(_Struct):
    purchase: int
    amount: Money
    reason: str
    def __init__(self, *, purchase: int = 0, amount: Money = ..., reason: str = "") -> None: ...

class Interaction(_Struct):
    kind: InteractionKind
    purpose: ContactPurpose
    commitment_asked: str
    commitment_obtained: bool
    note: str
    def __init__(
        self,
        *,
        kind: InteractionKind = ...,
        purpose: ContactPurpose = ...,
        commitment_asked: str = "",
        commitment_obtained: bool = False,
        note: str = "",
    ) -> None: ...

class Referral(_Struct):
    referred: int
    def __init__(self, *, referred: int = 0) -> None: ...

class SurveyResponse(_Struct):
    survey: str
    nps: int | None
    csat: int | None
    comment: str
    def __init__(
        self, *, survey: str = "", nps: int | None = None, csat: int | None = None, comment: str = ""
    ) -> None: ...

class EventParticipation(_Struct):
    event_name: str
    role: str
    def __init__(self, *, event_name: str = "", role: str = "") -> None: ...

EventPayload = Purchase | Refund | Interaction | Referral | SurveyResponse | EventParticipation

class Event(_Struct):
    id: int
    customer: int
    at: Timestamp
    source: str
    idempotency_key: str
    payload: EventPayload
    recorded_at: Timestamp
    actor: str
    def __init__(
        self,
        *,
        id: int = 0,
        customer: int = 0,
        at: TimestampLike = ...,
        source: str = "",
        idempotency_key: str = "",
        payload: EventPayload = ...,
        recorded_at: TimestampLike = ...,
        actor: str = "",
    ) -> None: ...
    @property
    def type(self) -> EventType: ...
    @staticmethod
    def from_json(text: str) -> Event: ...
    def to_json(self) -> str: ...

def validate_event(event: Event, currency: CurrencyLike) -> None: ...

# ---- store ----

class SyncMode(_Enum):
    full: ClassVar[SyncMode]
    normal: ClassVar[SyncMode]
    off: ClassVar[SyncMode]

class StoreOptions(_Struct):
    currency: str
    synchronous: SyncMode
    busy_timeout_ms: int
    create_if_missing: bool
    read_only: bool
    actor: str
    max_readers: int
    suppression_key: bytes
    def __init__(self, **fields: Any) -> None: ...

class WriteContext(_Struct):
    actor: str
    source: str
    def __init__(self, *, actor: str = "", source: str = "") -> None: ...

class AuditEntry(_Struct):
    id: int
    at: Timestamp
    actor: str
    source: str
    entity: str
    entity_id: int
    action: str
    field: str
    old_value: str
    new_value: str
    def __init__(self, **fields: Any) -> None: ...

class RefundColumns:
    """Read-only numpy views of the C++ columns (no copy)."""
    event_id: npt.NDArray[np.int64]
    customer_id: npt.NDArray[np.int64]
    purchase_id: npt.NDArray[np.int64]
    at_micros: npt.NDArray[np.int64]
    amount_minor: npt.NDArray[np.int64]
    def __len__(self) -> int: ...

class InteractionColumns:
    """Read-only numpy views of the C++ columns (no copy); kind and purpose are enum codes."""
    event_id: npt.NDArray[np.int64]
    customer_id: npt.NDArray[np.int64]
    at_micros: npt.NDArray[np.int64]
    kind: npt.NDArray[np.uint8]
    purpose: npt.NDArray[np.uint8]
    commitment_asked: npt.NDArray[np.bool_]
    commitment_obtained: npt.NDArray[np.bool_]
    def __len__(self) -> int: ...

class SurveyColumns:
    """Read-only numpy views of the C++ columns (no copy); -1 = no score."""
    event_id: npt.NDArray[np.int64]
    customer_id: npt.NDArray[np.int64]
    at_micros: npt.NDArray[np.int64]
    nps: npt.NDArray[np.int8]
    csat: npt.NDArray[np.int8]
    def __len__(self) -> int: ...

class ParticipationColumns:
    """Read-only numpy views of the C++ columns (no copy)."""
    event_id: npt.NDArray[np.int64]
    customer_id: npt.NDArray[np.int64]
    at_micros: npt.NDArray[np.int64]
    def __len__(self) -> int: ...

class PurchaseColumns:
    """Read-only numpy views of the C++ columns (no copy)."""

    @property
    def currency(self) -> Currency: ...
    @property
    def event_id(self) -> npt.NDArray[np.int64]: ...
    @property
    def customer_id(self) -> npt.NDArray[np.int64]: ...
    @property
    def at_micros(self) -> npt.NDArray[np.int64]: ...
    @property
    def amount_minor(self) -> npt.NDArray[np.int64]: ...
    @property
    def refunded_minor(self) -> npt.NDArray[np.int64]: ...
    @property
    def item_count(self) -> npt.NDArray[np.int32]: ...
    @property
    def essential(self) -> npt.NDArray[np.bool_]: ...
    def __len__(self) -> int: ...

class ReferralColumns:
    """Read-only numpy views of the referral events' columns (no copy)."""

    @property
    def event_id(self) -> npt.NDArray[np.int64]: ...
    @property
    def referrer(self) -> npt.NDArray[np.int64]: ...
    @property
    def referred(self) -> npt.NDArray[np.int64]: ...
    @property
    def at_micros(self) -> npt.NDArray[np.int64]: ...
    def __len__(self) -> int: ...

class CustomerKeys:
    """Every customer's id (a read-only numpy view) and external id, in id order."""

    @property
    def customer_id(self) -> npt.NDArray[np.int64]: ...
    @property
    def external_id(self) -> list[str]: ...
    def __len__(self) -> int: ...

class PurchaseImport(_Struct):
    currency: str
    customer_external_id: list[str]
    at: list[Timestamp]
    amount: list[str]
    order_id: list[str]
    category: list[str]
    item_count: list[int]
    idempotency_key: list[str]
    source: str
    create_missing_customers: bool
    def __init__(self, **fields: Any) -> None: ...
    def _set_at_micros(self, micros: npt.ArrayLike) -> None: ...

class ImportReport(_Struct):
    rows: int
    purchases_added: int
    duplicates_skipped: int
    customers_created: int
    def __init__(self, **fields: Any) -> None: ...

class StoreSummary(_Struct):
    customers: int
    deleted_customers: int
    events: int
    purchases: int
    refunds: int
    revenue: Money
    refunded: Money
    net_revenue: Money
    def __init__(self, **fields: Any) -> None: ...

class EraseReport(_Struct):
    customer: int
    events_scrubbed: int
    audit_entries_scrubbed: int
    suppression_hashes: int
    wal_truncated: bool
    def __init__(self, **fields: Any) -> None: ...

class Store:
    def __init__(
        self,
        path: PathLike,
        currency: CurrencyLike | None = None,
        *,
        synchronous: SyncMode | str = ...,
        busy_timeout_ms: int = 5000,
        create_if_missing: bool = True,
        read_only: bool = False,
        actor: str = "system",
        max_readers: int = 4,
        suppression_key: bytes | bytearray | memoryview | None = None,
    ) -> None: ...
    @classmethod
    def open(cls, path: PathLike, currency: CurrencyLike | None = None, **options: Any) -> Store: ...
    def __enter__(self) -> Store: ...
    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> bool: ...
    @property
    def path(self) -> str: ...
    @property
    def currency(self) -> Currency: ...
    def schema_version(self) -> int: ...
    @staticmethod
    def current_schema_version() -> int: ...
    def declare_field(self, definition: FieldDef, *, actor: str = "", source: str = "") -> None: ...
    def fields(self) -> list[FieldDef]: ...
    def create_customer(self, customer: Customer, *, actor: str = "", source: str = "") -> Customer: ...
    def get_or_create_customer(
        self, customer: Customer, *, actor: str = "", source: str = ""
    ) -> tuple[Customer, bool]: ...
    def get_customer(self, id: int) -> Customer: ...
    def get_customer_by_external_id(self, external_id: str) -> Customer: ...
    def get_customer_by_email(self, email: str) -> Customer: ...
    def get_customer_by_phone(self, phone: str) -> Customer: ...
    def find_customer_by_external_id(self, external_id: str) -> Customer | None: ...
    def list_customers(self, include_deleted: bool = False) -> list[Customer]: ...
    def count_customers(self, include_deleted: bool = False) -> int: ...
    def update_customer(self, customer: Customer, *, actor: str = "", source: str = "") -> Customer: ...
    def set_consent(
        self, id: int, consent: Consent, *, actor: str = "", source: str = ""
    ) -> Customer: ...
    def delete_customer(self, id: int, *, actor: str = "", source: str = "") -> None: ...
    def restore_customer(self, id: int, *, actor: str = "", source: str = "") -> None: ...
    def append_event(self, event: Event, *, actor: str = "", source: str = "") -> Event: ...
    def append_events(
        self, events: Iterable[Event], *, actor: str = "", source: str = ""
    ) -> list[int]: ...
    def get_event(self, id: int) -> Event: ...
    def events_of(self, customer: int) -> list[Event]: ...
    def count_events(self) -> int: ...
    def refundable_amount(self, purchase: int) -> Money: ...
    def import_purchases(
        self,
        rows: pd.DataFrame | PurchaseImport,
        customer: str = "customer",
        at: str = "at",
        amount: str = "amount",
        currency: str | None = None,
        order_id: str | None = None,
        category: str | None = None,
        item_count: str | None = None,
        idempotency_key: str | None = None,
        source: str = "import",
        create_missing_customers: bool = True,
        *,
        actor: str = "",
    ) -> ImportReport: ...
    def purchase_columns(self) -> PurchaseColumns: ...
    def referral_columns(self) -> ReferralColumns: ...
    def customer_keys(self) -> CustomerKeys: ...
    def purchases_frame(self) -> pd.DataFrame: ...
    def refund_columns(self) -> RefundColumns: ...
    def interaction_columns(self) -> InteractionColumns: ...
    def survey_columns(self) -> SurveyColumns: ...
    def participation_columns(self) -> ParticipationColumns: ...
    def facts(
        self, as_of: TimestampLike, facts: Iterable[str] | None = None,
        windows: Iterable[dict[str, Any] | str] | None = None, model: Any = None, *,
        unit: str | TimeUnit = "day", multiplier: float = 1.0,
        machines: Iterable[Machine] | None = None,
    ) -> pd.DataFrame: ...
    def customer_facts(
        self, customer: int | str | Customer, as_of: TimestampLike,
        facts: Iterable[str] | None = None,
        windows: Iterable[dict[str, Any] | str] | None = None, model: Any = None, *,
        unit: str | TimeUnit = "day", multiplier: float = 1.0,
        machines: Iterable[Machine] | None = None,
    ) -> dict[str, Any]: ...
    def summary(self) -> StoreSummary: ...
    def audit_log(self, customer: int = 0) -> list[AuditEntry]: ...
    def erase_customer(self, id: int, *, actor: str = "", source: str = "") -> EraseReport: ...
    def is_suppressed(self, external_id: str, email: str = "", phone: str = "") -> bool: ...
    def export_jsonl(self, path: PathLike) -> None: ...
    def import_jsonl(self, path: PathLike) -> None: ...
    def checkpoint(self) -> bool: ...
    def close(self) -> None: ...
    def is_closed(self) -> bool: ...
    # ---- lifecycle engine and opportunities (docs/lifecycle-store.md) ----
    def transition(
        self,
        machine: Machine,
        customer: int | str | Customer | Opportunity,
        to: str,
        reason: str | None = None,
        actor: str | None = None,
        at: TimestampLike | None = None,
        *,
        source: str = "",
    ) -> dict[str, Any]: ...
    def state(self, machine: Machine, entity: int | str | Customer | Opportunity) -> dict[str, Any]: ...
    def states(self, machine: Machine, kind: str = "customer") -> pd.DataFrame: ...
    def history(
        self, machine: Machine | str, entity: int | str | Customer | Opportunity | None = None
    ) -> pd.DataFrame: ...
    def apply_transitions(
        self,
        machine: Machine,
        changes: list[dict[str, Any]],
        *,
        dry_run: bool = False,
        actor: str = "",
        source: str = "",
    ) -> list[dict[str, Any]]: ...
    def add_transition_listener(self, listener: Any) -> int: ...
    # ---- machines run on the store (crmkit/analytics/lifecycle.hpp) ----
    def fact_schema(
        self, machines: Iterable[str] = (), windows: Iterable[dict[str, Any] | str] | None = None
    ) -> FactSchema: ...
    def evaluate(
        self, machine: Machine, as_of: TimestampLike,
        customer: int | str | Customer | None = None, *, dry_run: bool = False,
        windows: Iterable[dict[str, Any] | str] | None = None, model: Any = None,
        unit: str | TimeUnit = "day", multiplier: float = 1.0, actor: str = "", source: str = "",
        kind: str = "customer",
    ) -> pd.DataFrame: ...
    def stage_history(self, machine: Machine, kind: str = "customer") -> History: ...
    def stages_as_of(self, machine: Machine, as_of: TimestampLike) -> pd.DataFrame: ...
    # ---- points ledger (docs/points-store.md) ----
    def define_points_program(
        self, program: PointsProgram | dict[str, Any] | str, *, actor: str = "", source: str = ""
    ) -> dict[str, Any]: ...
    def points_program(self, name: str) -> PointsProgram: ...
    def points_programs(self) -> list[dict[str, Any]]: ...
    def earn_points(
        self, program: str | PointsProgram, *, actor: str = "", source: str = ""
    ) -> dict[str, int]: ...
    def redeem_points(
        self, program: str | PointsProgram, customer: int | str | Customer, points: int,
        at: TimestampLike, idempotency_key: str = "", reason: str = "", *, actor: str = "",
        source: str = "",
    ) -> dict[str, Any]: ...
    def adjust_points(
        self, program: str | PointsProgram, customer: int | str | Customer, points: int,
        at: TimestampLike, reason: str, idempotency_key: str = "", *, actor: str = "",
        source: str = "",
    ) -> dict[str, Any]: ...
    def points_entries(
        self, program: str | PointsProgram, customer: int | str | Customer | None = None
    ) -> pd.DataFrame: ...
    def points_account(
        self, program: str | PointsProgram, customer: int | str | Customer, as_of: TimestampLike
    ) -> dict[str, Any]: ...
    def points_lots(
        self, program: str | PointsProgram, customer: int | str | Customer, as_of: TimestampLike
    ) -> pd.DataFrame: ...
    def points_balances(self, program: str | PointsProgram, as_of: TimestampLike) -> pd.DataFrame: ...
    def tier_history(
        self, program: str | PointsProgram, as_of: TimestampLike | None = None
    ) -> pd.DataFrame: ...
    def tier_counts(self, program: str | PointsProgram, as_of: TimestampLike) -> pd.DataFrame: ...
    # segments and drift (issue 8 item 3)
    def segments(
        self, as_of: TimestampLike, rules: dict[str, Any] | list[Any] | str | None = None, *,
        windows: Iterable[dict[str, Any] | str] | None = None,
    ) -> pd.DataFrame: ...
    def segment_drift(
        self, start: TimestampLike, end: TimestampLike,
        rules: dict[str, Any] | list[Any] | str | None = None, *,
        windows: Iterable[dict[str, Any] | str] | None = None,
    ) -> pd.DataFrame: ...
    def segment_drift_series(
        self, start: TimestampLike, end: TimestampLike, period: str = "month",
        rules: dict[str, Any] | list[Any] | str | None = None, *,
        windows: Iterable[dict[str, Any] | str] | None = None,
    ) -> pd.DataFrame: ...
    def mainstream_segments(
        self, as_of: TimestampLike, k: int = 3,
        rules: dict[str, Any] | list[Any] | str | None = None, *,
        windows: Iterable[dict[str, Any] | str] | None = None,
    ) -> pd.DataFrame: ...
    # engagement (follow-up and campaigns)
    def due_list(
        self, as_of: TimestampLike, policy: FollowUpPolicy | dict[str, Any] | str | None = None,
        horizon_days: int = 0, channel_order: Sequence[str] | None = None,
    ) -> DueList: ...
    def campaign_audience(
        self, as_of: TimestampLike, rule: dict[str, Any] | str | None = None,
        customers: Iterable[int | str] | None = None, purpose: str = "marketing",
        channels: Sequence[str] | None = None, odds: dict[str, float] | None = None,
    ) -> Audience: ...
    def record_campaign_touches(
        self, name: str, touches: Audience | pd.DataFrame | Iterable[tuple[int | str, str]],
        at: TimestampLike, purpose: str | None = None, *, actor: str = "", source: str = "",
    ) -> list[int]: ...
    def record_campaign_responses(
        self, name: str, customers: Iterable[int | str], at: TimestampLike, *, actor: str = "",
        source: str = "",
    ) -> list[int]: ...
    def campaign_report(
        self, name: str, cost_per_contact: Money, odds: dict[str, float] | None = None
    ) -> pd.DataFrame: ...
    def remove_transition_listener(self, id: int) -> bool: ...
    def listener_errors(self) -> list[dict[str, Any]]: ...
    def create_opportunity(
        self,
        customer: int | str | Customer | Opportunity,
        name: str | None = None,
        amount: DecimalLike | Money | None = None,
        expected_close: DateLike | None = None,
        owner: str = "",
        pipeline: str = "sales_pipeline",
        *,
        actor: str = "",
        source: str = "",
    ) -> Opportunity: ...
    def get_opportunity(self, id: int) -> Opportunity: ...
    def list_opportunities(self, customer: int = 0) -> list[Opportunity]: ...
    def update_opportunity(
        self, opportunity: Opportunity, *, actor: str = "", source: str = ""
    ) -> Opportunity: ...
    def opportunities(self, pipeline: str | None = None) -> pd.DataFrame: ...
    def pipeline_value(
        self,
        machine: Machine,
        by: str | Sequence[str] = ("stage", "owner", "close_month"),
        include_terminal: bool = False,
    ) -> pd.DataFrame: ...
    # loyalty metrics (issue 8 item 2)
    def cohort_retention(
        self, period: str = "month", as_of: TimestampLike | None = None
    ) -> CohortRetention: ...
    def retention(
        self, period: str = "month", start: TimestampLike | None = None,
        end: TimestampLike | None = None, *, active_days: int = 365,
    ) -> pd.DataFrame: ...
    def repeat_purchase_rate(
        self, as_of: TimestampLike | None = None, period: str | None = None,
        start: TimestampLike | None = None,
    ) -> dict[str, Any] | pd.DataFrame: ...
    def nps(
        self, as_of: TimestampLike | None = None, period: str | None = None, *,
        latest_only: bool = False, start: TimestampLike | None = None,
    ) -> dict[str, Any] | pd.DataFrame: ...
    def csat(
        self, as_of: TimestampLike | None = None, period: str | None = None, *,
        latest_only: bool = False, start: TimestampLike | None = None,
    ) -> dict[str, Any] | pd.DataFrame: ...
    def referral_rate(
        self, as_of: TimestampLike | None = None, period: str | None = None,
        start: TimestampLike | None = None,
    ) -> dict[str, Any] | pd.DataFrame: ...
    def word_of_mouth(
        self, as_of: TimestampLike | None = None, period: str | None = None, *,
        tell_satisfied: float = 3.0, tell_dissatisfied: float = 10.0,
        start: TimestampLike | None = None,
    ) -> dict[str, Any] | pd.DataFrame: ...
    def customer_loyalty(
        self, as_of: TimestampLike | None = None, period: str = "month", *,
        active_days: int = 365,
    ) -> pd.DataFrame: ...

class Opportunity(_Struct):
    id: int
    customer: int
    name: str
    amount: Money
    expected_close: Date
    owner: str
    pipeline: str
    created_at: Timestamp
    updated_at: Timestamp
    def __init__(self, **fields: Any) -> None: ...

def probability_decimal(probability: float) -> decimal.Decimal: ...

# ---- value engine (summary.hpp, rfm.hpp, models.hpp) ----

from . import datasets as datasets, fitters as fitters, ltv as ltv, utils as utils
from . import value as value
from .fitters import (
    BetaGeoBetaBinomFitter as BetaGeoBetaBinomFitter,
    BetaGeoFitter as BetaGeoFitter,
    ConvergenceWarning as ConvergenceWarning,
    GammaGammaFitter as GammaGammaFitter,
    ModifiedBetaGeoFitter as ModifiedBetaGeoFitter,
    ParetoNBDFitter as ParetoNBDFitter,
)
from . import covariates as covariates
from .covariates import (
    BetaGeoCovariatesFitter as BetaGeoCovariatesFitter,
    ParetoNBDCovariatesFitter as ParetoNBDCovariatesFitter,
)
from .utils import default_rfm_segments as default_rfm_segments, rfm_scores as rfm_scores
from .ltv import (
    CalibrationValidation as CalibrationValidation,
    calibration_vs_holdout as calibration_vs_holdout,
    lifetime_value_parts as lifetime_value_parts,
)

# Arrow in and out (docs/arrow.md): output= of the column functions. None keeps each function's
# own result type; "pyarrow" results are pyarrow.Table / pyarrow.Array (typed Any here, so the
# stubs do not need pyarrow); "numpy" results are numpy arrays or dicts of them.
_Output = Literal["pandas", "pyarrow", "numpy"]

from . import facts as facts
@overload
def facts_from_columns(
    customers: Any, as_of: TimestampLike, *, purchases: Any = None, refunds: Any = None,
    interactions: Any = None, referrals: Any = None, surveys: Any = None,
    participations: Any = None, scale: int = 2, facts: Iterable[str] | None = None,
    windows: Iterable[dict[str, Any] | str] | None = None, model: Any = None,
    unit: str | TimeUnit = "day", multiplier: float = 1.0,
    output: Literal["pandas"] | None = None,
) -> pd.DataFrame: ...
@overload
def facts_from_columns(
    customers: Any, as_of: TimestampLike, *, purchases: Any = None, refunds: Any = None,
    interactions: Any = None, referrals: Any = None, surveys: Any = None,
    participations: Any = None, scale: int = 2, facts: Iterable[str] | None = None,
    windows: Iterable[dict[str, Any] | str] | None = None, model: Any = None,
    unit: str | TimeUnit = "day", multiplier: float = 1.0,
    output: Literal["numpy"],
) -> dict[str, np.ndarray]: ...
@overload
def facts_from_columns(
    customers: Any, as_of: TimestampLike, *, purchases: Any = None, refunds: Any = None,
    interactions: Any = None, referrals: Any = None, surveys: Any = None,
    participations: Any = None, scale: int = 2, facts: Iterable[str] | None = None,
    windows: Iterable[dict[str, Any] | str] | None = None, model: Any = None,
    unit: str | TimeUnit = "day", multiplier: float = 1.0,
    output: Literal["pyarrow"],
) -> Any: ...
def standard_facts(
    machines: Iterable[str] = (), windows: Iterable[dict[str, Any] | str] | None = None
) -> pd.DataFrame: ...
def window_fact(declaration: dict[str, Any] | str) -> dict[str, Any]: ...
# segments and drift (issue 8 item 3)
def segment_drift(labels_a: Any, labels_b: Any) -> pd.DataFrame: ...
def purchase_segments(
    customer_index: Any, times: Any, amounts_minor: Any, dates: Iterable[TimestampLike],
    rules: dict[str, Any] | list[Any] | str, *, customers: int | None = None, scale: int = 2,
) -> list[pd.Categorical]: ...
def plot_segment_drift(drift: pd.DataFrame, ax: Any = None, **kwargs: Any) -> Any: ...
def rfm_segment_names() -> list[str]: ...
def set_model_threads(threads: int) -> None: ...
def model_threads() -> int: ...

class ValueMethod(_Enum):
    model: ClassVar[ValueMethod]
    run_rate: ClassVar[ValueMethod]

class TimeUnit(_Enum):
    day: ClassVar[TimeUnit]
    week: ClassVar[TimeUnit]
    month: ClassVar[TimeUnit]
    hour: ClassVar[TimeUnit]

class FitReport:
    converged: bool
    iterations: int
    log_likelihood: float
    gradient_norm: float
    message: str
    def __init__(
        self,
        *,
        converged: bool = ...,
        iterations: int = ...,
        log_likelihood: float = ...,
        gradient_norm: float = ...,
        message: str = ...,
    ) -> None: ...

# ---- rules (JSON Logic; crmkit/rules/rules.hpp, docs/rules.md) ----

class FactType(_Enum):
    number: ClassVar[FactType]
    integer: ClassVar[FactType]
    boolean: ClassVar[FactType]
    text: ClassVar[FactType]
    date: ClassVar[FactType]
    text_list: ClassVar[FactType]

FactTypeLike = FactType | str

class FactSchema:
    def __init__(
        self,
        facts: dict[str, FactTypeLike]
        | Iterable[tuple[str, FactTypeLike] | tuple[str, FactTypeLike, str]]
        | None = None,
    ) -> None: ...
    def add(self, name: str, type: FactTypeLike, description: str | None = None) -> int: ...
    def find(self, name: str) -> int | None: ...
    def slot(self, name: str) -> int: ...
    def type_of(self, name: str) -> FactType: ...
    @property
    def names(self) -> list[str]: ...
    def __len__(self) -> int: ...
    def __contains__(self, name: str) -> bool: ...

class Rule:
    def __init__(self, rule: Any, schema: FactSchema, path: str = "rule") -> None: ...
    def test(self, facts: dict[str, Any] | pd.DataFrame) -> bool | npt.NDArray[np.bool_]: ...
    def test_all(
        self, columns: pd.DataFrame | dict[str, npt.ArrayLike | pd.Series]
    ) -> npt.NDArray[np.bool_]: ...
    def evaluate(self, facts: dict[str, Any]) -> Any: ...
    @property
    def dependencies(self) -> list[str]: ...
    @property
    def result_type(self) -> FactType: ...
    @property
    def source(self) -> str: ...
    @property
    def schema(self) -> FactSchema: ...

def jsonlogic_apply(rule: Any, data: Any = None) -> Any: ...

# ---- lifecycle (crmkit/lifecycle/*.hpp, crmkit.lifecycle) ----

class Machine:
    def __init__(
        self,
        definition: str | dict[str, Any],
        facts: FactSchema,
        parameters: dict[str, float] | None = None,
        strict: bool = True,
    ) -> None: ...
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def initial_state(self) -> str: ...
    @property
    def parameters(self) -> dict[str, float]: ...
    @property
    def states(self) -> list[dict[str, Any]]: ...
    @property
    def state_names(self) -> list[str]: ...
    @property
    def transitions(self) -> list[dict[str, Any]]: ...
    @property
    def facts_used(self) -> list[str]: ...
    @property
    def facts(self) -> FactSchema: ...
    def has_state(self, name: str) -> bool: ...
    def state(self, name: str) -> dict[str, Any]: ...
    def state_index(self, name: str) -> int: ...
    def check_manual(self, from_state: str, to_state: str, reason: str = "") -> dict[str, Any]: ...
    def evaluate(self, state: str, days_in_stage: int, facts: dict[str, Any]) -> list[dict[str, str]]: ...
    @overload
    def evaluate_columns(
        self,
        states: Sequence[str | int] | npt.NDArray[Any] | pd.Series | pd.Categorical,
        days_in_stage: npt.ArrayLike,
        facts: pd.DataFrame | dict[str, npt.ArrayLike | pd.Series],
        *,
        as_codes: Literal[False] = False,
    ) -> tuple[pd.Series, pd.DataFrame]: ...
    @overload
    def evaluate_columns(
        self,
        states: Sequence[str | int] | npt.NDArray[Any] | pd.Series | pd.Categorical,
        days_in_stage: npt.ArrayLike,
        facts: pd.DataFrame | dict[str, npt.ArrayLike | pd.Series],
        *,
        as_codes: Literal[True],
    ) -> tuple[npt.NDArray[np.int32], pd.DataFrame]: ...

def default_machine_names() -> list[str]: ...
def default_machine_json(name: str) -> str: ...
def default_machine(
    name: str, facts: FactSchema, parameters: dict[str, float] | None = None, strict: bool = True
) -> Machine: ...

class History:
    state_names: list[str]
    def __init__(
        self,
        rows: pd.DataFrame,
        machine: Machine | Sequence[str],
        *,
        entity: str = "entity",
        from_state: str = "from",
        to_state: str = "to",
        at: str = "at",
    ) -> None: ...
    @property
    def entities(self) -> npt.NDArray[np.int64]: ...
    def stages_as_of(self, as_of: TimestampLike) -> pd.DataFrame: ...
    def stage_times(self, as_of: TimestampLike) -> pd.DataFrame: ...
    def distribution(self, dates: Iterable[TimestampLike]) -> pd.DataFrame: ...
    def transition_counts(self, start: TimestampLike, end: TimestampLike) -> pd.DataFrame: ...
    def funnel(self, start: TimestampLike, end: TimestampLike) -> pd.DataFrame: ...
    def median_durations(self, as_of: TimestampLike) -> pd.DataFrame: ...

# ---- loyalty points (crmkit/loyalty/points.hpp, crmkit.points, docs/points.md) ----

from . import points as points

class PointsProgram:
    def __init__(self, json: str | dict[str, Any]) -> None: ...
    @staticmethod
    def from_json(json: str | dict[str, Any]) -> PointsProgram: ...
    def to_json(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...
    @property
    def name(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def pending_days(self) -> int: ...
    @property
    def expiry_mode(self) -> str: ...
    @property
    def expiry_days(self) -> int: ...
    @property
    def spend_order(self) -> str: ...
    @property
    def rule_names(self) -> list[str]: ...
    @property
    def rules(self) -> list[dict[str, Any]]: ...
    @property
    def tier_names(self) -> list[str]: ...
    @property
    def tiers(self) -> dict[str, Any]: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

def replay_points(program: PointsProgram, entries: pd.DataFrame, as_of: TimestampLike) -> pd.DataFrame: ...

class PointsAccountView:
    balances: dict[str, Any]
    lots: pd.DataFrame
    tier_history: pd.DataFrame

def replay_points_account(
    program: PointsProgram, entries: pd.DataFrame, customer: int, as_of: TimestampLike
) -> PointsAccountView: ...
# loyalty metrics (issue 8 item 2; crmkit/loyalty_metrics.py, docs/loyalty-metrics.md)
from . import loyalty_metrics as loyalty_metrics

class CohortRetention:
    period: str
    as_of: pd.Timestamp
    incomplete: bool
    last_period: str
    counts: pd.DataFrame
    shares: pd.DataFrame
    sizes: pd.Series
    incomplete_cells: pd.DataFrame
    @property
    def customers(self) -> int: ...

@overload
def cohort_retention(
    customer: Any, time: Any, period: str = "month", as_of: TimestampLike | None = None, *,
    threads: int = 0, output: Literal["pandas"] | None = None,
) -> CohortRetention: ...
@overload
def cohort_retention(
    customer: Any, time: Any, period: str = "month", as_of: TimestampLike | None = None, *,
    threads: int = 0, output: Literal["numpy"],
) -> dict[str, np.ndarray]: ...
@overload
def cohort_retention(
    customer: Any, time: Any, period: str = "month", as_of: TimestampLike | None = None, *,
    threads: int = 0, output: Literal["pyarrow"],
) -> Any: ...
def plot_cohort_retention(
    matrix: CohortRetention, ax: Any = None, *, annotate: bool | None = None, cmap: str = "Blues",
    **kwargs: Any,
) -> Any: ...
# engagement (follow-up and campaigns)
class FollowUpPolicy:
    default_every_days: int
    default_purpose: str
    default_action: str
    rule_names: list[str]
    def __init__(self) -> None: ...
    @staticmethod
    def from_json(policy: dict[str, Any] | str) -> FollowUpPolicy: ...
    def to_json(self) -> str: ...

class DueList:
    as_of: Any
    due: pd.DataFrame
    unreachable: pd.DataFrame
    at_limit: pd.DataFrame
    def __len__(self) -> int: ...

class Audience:
    purpose: str
    members: pd.DataFrame
    unreachable: pd.DataFrame
    at_limit: pd.DataFrame
    def __len__(self) -> int: ...

class CampaignPlan:
    contacts: int
    cost_per_contact: Money
    cost: Money
    expected_responses: float
    expected_response_rate: float
    wasted_spend: Money

class PlanComparison:
    targeted: CampaignPlan
    blanket: CampaignPlan
    cost_saved: Money
    waste_saved: Money
    responses_lost: float

def campaign_plan(
    audience_or_contacts: Audience | int, cost_per_contact: Money,
    response_rate: float | None = None,
) -> CampaignPlan: ...
def compare_plans(targeted: CampaignPlan, blanket: CampaignPlan) -> PlanComparison: ...
def due_list_from_columns(
    customers: pd.DataFrame | dict[str, Any], consents: pd.DataFrame | dict[str, Any],
    interactions: pd.DataFrame | dict[str, Any], as_of: TimestampLike,
    policy: FollowUpPolicy | dict[str, Any] | str | None = None, horizon_days: int = 0,
) -> DueList: ...

# contractual customers: sBG and BdW (issue 11 item 3; crmkit.contractual, docs/contractual.md)
from . import contractual as contractual

def survivors_from_lost(initial: float, lost: Any) -> npt.NDArray[np.float64]: ...

class _RetentionFitter:
    penalizer_coef: float
    def __init__(self, penalizer_coef: float = 0.0) -> None: ...
    def fit(self, survivors: Any, initial_params: Any = None, verbose: bool = False,
            tol: float = 1e-10, **kwargs: Any) -> Any: ...
    @property
    def data(self) -> pd.DataFrame | None: ...
    @property
    def params_(self) -> pd.Series: ...
    @property
    def standard_errors_(self) -> pd.Series: ...
    @property
    def confidence_intervals_(self) -> pd.DataFrame: ...
    @property
    def summary(self) -> pd.DataFrame: ...
    @property
    def fit_report_(self) -> FitReport: ...
    @property
    def log_likelihood_(self) -> float: ...
    def survival_function(self, t: Any, *, output: str | None = None) -> Any: ...
    def retention_rate(self, t: Any, *, output: str | None = None) -> Any: ...
    def churn_probability(self, t: Any, *, output: str | None = None) -> Any: ...
    def discounted_expected_residual_lifetime(self, discount_rate: float,
                                              renewals: Any = 0) -> Any: ...
    def discounted_expected_lifetime(self, discount_rate: float) -> float: ...
    def log_likelihood(self, survivors: Any) -> float: ...
    def save_model(self, path: Any, save_data: bool = True,
                   save_generating_function: bool = False, values_to_save: Any = None) -> None: ...
    def load_model(self, path: Any) -> None: ...

class ShiftedBetaGeometricFitter(_RetentionFitter):
    def fit(self, survivors: Any, initial_params: Any = None, verbose: bool = False,
            tol: float = 1e-10, **kwargs: Any) -> ShiftedBetaGeometricFitter: ...
    def expected_lifetime(self) -> float: ...

class BetaDiscreteWeibullFitter(_RetentionFitter):
    def fit(self, survivors: Any, initial_params: Any = None, verbose: bool = False,
            tol: float = 1e-10, **kwargs: Any) -> BetaDiscreteWeibullFitter: ...
