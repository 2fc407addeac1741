"""Every crmkit::ErrorCode reaches Python as its own class, with the builtin it resembles."""

from __future__ import annotations

import pytest

import crmkit
from crmkit import _core, errors

EXPECTED = {
    "invalid_argument": (crmkit.ValidationError, ValueError),
    "not_found": (crmkit.NotFoundError, KeyError),
    "conflict": (crmkit.ConflictError, crmkit.CrmkitError),
    "suppressed": (crmkit.SuppressedError, crmkit.ConflictError),
    "invalid_transition": (crmkit.InvalidTransitionError, crmkit.CrmkitError),
    "consent_required": (crmkit.ConsentRequiredError, crmkit.CrmkitError),
    "overflow": (crmkit.MoneyOverflowError, OverflowError),
    "storage": (crmkit.StorageError, OSError),
    "corrupt": (crmkit.CorruptError, crmkit.StorageError),
}


def test_the_python_table_covers_every_cpp_code():
    # The C++ list (crmkit/base/error.hpp's all_error_codes), in enumerator order.
    assert _core.error_codes() == [
        "invalid_argument", "not_found", "conflict", "suppressed", "invalid_transition",
        "consent_required", "overflow", "storage", "corrupt",
    ]
    assert sorted(errors._BY_CODE) == sorted(_core.error_codes())


def test_an_unmapped_code_is_an_import_error_naming_it():
    codes = list(_core.error_codes()) + ["brand_new"]
    with pytest.raises(ImportError, match="crmkit::ErrorCode 'brand_new' has no exception class"):
        errors._check_error_codes(codes, errors._BY_CODE)
    stale = dict(errors._BY_CODE, gone=crmkit.ConflictError)
    with pytest.raises(ImportError, match="ConflictError maps 'gone', which is no crmkit::ErrorCode"):
        errors._check_error_codes(list(_core.error_codes()), stale)
    errors._check_error_codes(list(_core.error_codes()), errors._BY_CODE)  # the real table


@pytest.mark.parametrize("code", _core.error_codes())
def test_each_code_raises_its_class_with_both_bases(code):
    cls, builtin = EXPECTED[code]
    with pytest.raises(cls) as info:
        _core._raise_error(code, f"thing.field: {code} happened")
    exc = info.value
    assert type(exc) is cls
    assert isinstance(exc, crmkit.CrmkitError)
    assert isinstance(exc, builtin)
    assert exc.code == code
    assert str(exc) == f"thing.field: {code} happened"


def test_not_found_str_is_not_quoted_like_a_key_error():
    with pytest.raises(KeyError) as info:
        _core._raise_error("not_found", "customer: 42 does not exist")
    assert str(info.value) == "customer: 42 does not exist"


def test_unknown_code_name_is_a_plain_value_error():
    with pytest.raises(ValueError) as info:
        _core._raise_error("no_such_code", "x")
    assert not isinstance(info.value, crmkit.CrmkitError)
