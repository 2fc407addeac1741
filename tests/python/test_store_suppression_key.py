"""crmkit.Store(..., suppression_key=b"...") (StoreOptions::suppression_key, issue 9 item 2): a
host-supplied key of the suppression hashes is in neither the file nor an export, and the hashes
match nothing without it."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest

import crmkit

KEY = bytes((0x5A + 7 * i) & 0xFF for i in range(32))
WRONG = bytes((0x5B + 7 * i) & 0xFF for i in range(32))
PHONE = "+4915550001234"
EMAIL = "ida.keyholder@keys.example"


def _hash(key: bytes, kind: str, value: str) -> str:
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def _erased_store(path, **options) -> crmkit.Store:
    store = crmkit.Store(path, currency="USD", **options)
    c = store.create_customer(crmkit.Customer(external_id="ext-ida", name="Ida Keyholder", contacts=[
        crmkit.ContactPoint(kind=crmkit.ContactKind.email, value=EMAIL),
        crmkit.ContactPoint(kind=crmkit.ContactKind.phone, value=PHONE)]))
    assert store.erase_customer(c.id).suppression_hashes == 3
    return store


def test_host_key_is_in_neither_file_nor_export_and_without_it_nothing_matches(tmp_path):
    path = tmp_path / "crm.db"
    with _erased_store(path, suppression_key=KEY) as store:
        assert store.is_suppressed("", phone=PHONE)
        store.export_jsonl(tmp_path / "out.jsonl")
    data = path.read_bytes()
    exported = (tmp_path / "out.jsonl").read_bytes()
    for blob in (data, exported):
        assert KEY not in blob
        assert KEY.hex().encode() not in blob
    lines = [json.loads(line) for line in exported.decode().splitlines()]
    header = lines[0]
    assert "suppression_key" not in header
    assert header["suppression_key_mode"] == "host"
    check = bytes.fromhex(header["suppression_key_check"])
    hashes = {line["suppression"]["hash"] for line in lines if "suppression" in line}
    assert len(hashes) == 3

    candidates = [f"+4915550001{i:03d}" for i in range(1000)]  # the erased phone among them
    assert [p for p in candidates if _hash(KEY, "phone", p) in hashes] == [PHONE]
    for guess in (WRONG, check, bytes(32)):
        assert [p for p in candidates if _hash(guess, "phone", p) in hashes] == []
        assert _hash(guess, "email", EMAIL) not in hashes

    with pytest.raises(crmkit.ConflictError) as missing:
        crmkit.Store(path)
    assert str(missing.value) == (
        f"suppression_key: store '{path}' uses a host-supplied suppression key; open it with that key")
    with pytest.raises(crmkit.ConflictError) as wrong:
        crmkit.Store(path, suppression_key=WRONG)
    assert str(wrong.value) == f"suppression_key: not the key store '{path}' was created with"
    with crmkit.Store(path, suppression_key=bytearray(KEY)) as again:
        assert again.is_suppressed("ext-ida")
        with pytest.raises(crmkit.SuppressedError):
            again.create_customer(crmkit.Customer(external_id="new", name="N", contacts=[
                crmkit.ContactPoint(kind=crmkit.ContactKind.email, value=EMAIL)]))


def test_default_key_is_in_the_export_and_matches(tmp_path):
    # The documented weakness of the default: the export's own key re-identifies the phone.
    with _erased_store(tmp_path / "crm.db") as store:
        store.export_jsonl(tmp_path / "out.jsonl")
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    key = bytes.fromhex(lines[0]["suppression_key"])
    hashes = {line["suppression"]["hash"] for line in lines if "suppression" in line}
    assert _hash(key, "phone", PHONE) in hashes
    with pytest.raises(crmkit.ConflictError):
        crmkit.Store(tmp_path / "crm.db", suppression_key=KEY)


def test_import_needs_the_same_key(tmp_path):
    with _erased_store(":memory:", suppression_key=KEY) as store:
        store.export_jsonl(tmp_path / "out.jsonl")
    with crmkit.Store(":memory:", currency="USD", suppression_key=KEY) as same:
        same.import_jsonl(tmp_path / "out.jsonl")
        assert same.is_suppressed("", email=EMAIL)
    with crmkit.Store(":memory:", currency="USD", suppression_key=WRONG) as other:
        with pytest.raises(crmkit.ConflictError, match="^import: line 1: suppression_key_check: "):
            other.import_jsonl(tmp_path / "out.jsonl")
        assert other.count_customers(True) == 0
    with crmkit.Store(":memory:", currency="USD") as default:
        with pytest.raises(crmkit.ConflictError, match="^import: line 1: suppression_key_mode: "):
            default.import_jsonl(tmp_path / "out.jsonl")


@pytest.mark.parametrize("key, message", [
    ("ab" * 32, "suppression_key: expected 32 bytes (bytes), got str"),
    (KEY[:31], "suppression_key: must be 32 bytes, not 31"),
    (KEY + b"x", "suppression_key: must be 32 bytes, not 33"),
])
def test_a_key_is_32_bytes(key, message):
    with pytest.raises(crmkit.ValidationError) as e:
        crmkit.Store(":memory:", currency="USD", suppression_key=key)
    assert str(e.value) == message


def test_store_options_never_print_the_key():
    options = crmkit.StoreOptions(currency="USD")
    options.suppression_key = KEY
    assert options.suppression_key == KEY
    assert KEY.hex() not in repr(options) and repr(KEY) not in repr(options)
