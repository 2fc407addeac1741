"""The exceptions crmkit raises: one class per ``crmkit::ErrorCode``, all under :class:`CrmkitError`.

The compiled module translates every ``crmkit::Error`` into the class registered for its code in
``_BY_CODE`` (one translator, keyed by the code's name). Each class also derives from the builtin
exception it resembles, so ``except ValueError`` and ``except KeyError`` keep working. At import
the table is checked against the C++ list of codes (``crmkit._core.error_codes()``, from
crmkit/base/error.hpp's ``all_error_codes``): a code without a class is an ImportError naming it.
"""

from __future__ import annotations

__all__ = [
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
]


class CrmkitError(Exception):
    """Base class of every error crmkit raises. ``code`` is the ErrorCode's name."""

    code: str = ""


class ValidationError(CrmkitError, ValueError):
    """The input is malformed or breaks a rule (``invalid_argument``)."""

    code = "invalid_argument"


class NotFoundError(CrmkitError, KeyError):
    """A customer, event, field or currency that does not exist (``not_found``)."""

    code = "not_found"

    def __str__(self) -> str:
        # KeyError quotes its argument; show the plain message instead.
        return str(self.args[0]) if self.args else ""


class ConflictError(CrmkitError):
    """A duplicate key or a write that contradicts stored state (``conflict``)."""

    code = "conflict"


class SuppressedError(ConflictError):
    """The input matches an erased customer's suppression hash (``suppressed``)."""

    code = "suppressed"


class InvalidTransitionError(CrmkitError):
    """A lifecycle move the state machine does not allow (``invalid_transition``)."""

    code = "invalid_transition"


class ConsentRequiredError(CrmkitError):
    """A contact without the customer's consent (``consent_required``)."""

    code = "consent_required"


class MoneyOverflowError(CrmkitError, OverflowError):
    """An amount outside the exact 128-bit range (``overflow``)."""

    code = "overflow"


class StorageError(CrmkitError, OSError):
    """SQLite or the file system failed (``storage``)."""

    code = "storage"


class CorruptError(StorageError):
    """The store file or an import is damaged or from an unknown schema (``corrupt``)."""

    code = "corrupt"


class JsonLogicError(ValidationError):
    """A JSON Logic error value raised by ``crmkit.jsonlogic_apply`` (``invalid_argument``):
    ``error`` is the error object (``{"type": "NaN"}``, ``{"type": "Invalid Arguments"}``, or
    what ``throw`` threw) and ``type`` its ``"type"`` member (None when it has none)."""

    def __init__(self, message: str, error: object = None) -> None:
        super().__init__(message)
        self.error = error
        self.type = error.get("type") if isinstance(error, dict) else None


# ErrorCode name -> class; read by the translator in bindings/python/errors.cpp.
_BY_CODE: dict[str, type[CrmkitError]] = {
    cls.code: cls
    for cls in (
        ValidationError,
        NotFoundError,
        ConflictError,
        SuppressedError,
        InvalidTransitionError,
        ConsentRequiredError,
        MoneyOverflowError,
        StorageError,
        CorruptError,
    )
}


def _check_error_codes(codes: list[str], table: dict[str, type[CrmkitError]]) -> None:
    """Raises ImportError naming the first code of ``codes`` (the C++ list) without a class in
    ``table``, or the first class of ``table`` whose code the C++ list does not have."""
    for code in codes:
        if code not in table:
            raise ImportError(
                f"crmkit.errors: crmkit::ErrorCode {code!r} has no exception class; add one to "
                "python/crmkit/errors.py (_BY_CODE)"
            )
    for code in table:
        if code not in codes:
            raise ImportError(
                f"crmkit.errors: {table[code].__name__} maps {code!r}, which is no "
                "crmkit::ErrorCode"
            )


def _check_against_the_core() -> None:
    from . import _core

    _check_error_codes(list(_core.error_codes()), _BY_CODE)


_check_against_the_core()
