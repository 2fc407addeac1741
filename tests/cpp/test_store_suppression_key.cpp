// Tests for StoreOptions::suppression_key (crmkit/store/store.hpp): a host-supplied key of the
// suppression hashes is never written to the file or an export, the hashes match nothing without
// it, a store is opened only with its key, and import_jsonl moves hashes only between stores of
// the same key (issue 9, item 2). The test computes HMAC-SHA-256 itself (OpenSSL) to show which
// keys match the stored hashes.
#include <catch2/catch.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "crmkit/base/error.hpp"
#include "crmkit/store/store.hpp"
#include "support.hpp"

using namespace crmkit;
using namespace crmkit::test;
namespace fs = std::filesystem;

namespace {

std::string hmac(const std::string& key, const std::string& msg) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  REQUIRE(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
               reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), out, &len));
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string hex(const std::string& bytes) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

std::string unhex(const std::string& h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}

// 32 bytes: seed, seed + 7, seed + 14, ... (mod 256).
std::string key_of(int seed) {
  std::string k;
  for (int i = 0; i < 32; ++i) k.push_back(static_cast<char>((seed + 7 * i) & 0xff));
  return k;
}

StoreOptions keyed(const std::string& key) {
  StoreOptions o = usd();
  o.suppression_key = key;
  return o;
}

const std::string kPhone = "+4915550001234";
const std::string kEmail = "ida.keyholder@keys.example";
const std::string kExt = "ext-ida";

// The export's lines as JSON.
std::vector<nlohmann::json> lines_of(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

// The suppression hashes of an export (raw bytes).
std::set<std::string> hashes_of(const std::string& text) {
  std::set<std::string> out;
  for (const auto& j : lines_of(text))
    if (j.contains("suppression")) out.insert(unhex(j["suppression"]["hash"].get<std::string>()));
  return out;
}

// A customer with kExt, kEmail and kPhone, erased, beside a neighbour who stays.
void fill_and_erase(Store& s) {
  s.create_customer(person("ext-neighbour", "Nils Nachbar", "nils@keys.example", "+4915550009999"));
  const Customer ida = s.create_customer(person(kExt, "Ida Keyholder", kEmail, kPhone));
  s.append_event(purchase_event(ida.id, "12.50", "2024-03-01T10:00:00Z"));
  REQUIRE(s.erase_customer(ida.id).suppression_hashes == 3);
}

// How many of the candidate phones (the real one among 1,000) have a hash in `hashes` under `key`.
int phone_matches(const std::string& key, const std::set<std::string>& hashes) {
  int n = 0;
  for (int i = 0; i < 1000; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "+4915550001%03d", (234 + i) % 1000);
    if (hashes.count(hmac(key, std::string("phone:") + buf))) ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("a host-supplied suppression key is in neither the file nor an export; without it the "
          "hashes match nothing", "[store][erase][suppression_key]") {
  TempDir tmp("supkey");
  const std::string path = tmp.file("crm.db");
  const std::string key = key_of(0x5a);
  const std::string wrong = key_of(0x5b);
  std::string exported;
  {
    Store s = Store::open(path, keyed(key));
    fill_and_erase(s);
    CHECK(s.is_suppressed(kExt));
    CHECK(s.is_suppressed("", kEmail));
    CHECK(s.is_suppressed("", "", kPhone));
    s.export_jsonl(tmp.file("out.jsonl"));
    exported = read_bytes(tmp.file("out.jsonl"));
    // While open (WAL present) and after close: no key bytes, raw or as hex.
    const std::string db = read_bytes(path);
    const std::string wal = fs::exists(path + "-wal") ? read_bytes(path + "-wal") : std::string();
    for (const std::string* bytes : {&db, &wal}) {
      CHECK(bytes->find(key) == std::string::npos);
      CHECK(bytes->find(hex(key)) == std::string::npos);
    }
  }
  const std::string db = read_bytes(path);
  REQUIRE(db.size() > 4096);
  CHECK(db.find("nils@keys.example") != std::string::npos);  // the search does find data
  CHECK(db.find(key) == std::string::npos);
  CHECK(db.find(hex(key)) == std::string::npos);
  CHECK(exported.find(hex(key)) == std::string::npos);
  CHECK(exported.find(key) == std::string::npos);

  // The header has the mode and the check value, no key.
  const auto lines = lines_of(exported);
  const nlohmann::json& header = lines.front();
  CHECK_FALSE(header.contains("suppression_key"));
  CHECK(header["suppression_key_mode"] == "host");
  const std::string check = unhex(header["suppression_key_check"].get<std::string>());
  CHECK(check == hmac(key, "crmkit-key-check"));
  CHECK(db.find(check) != std::string::npos);  // the file keeps the check value

  // With the key the hashes match; with what the file and the export hold, or a wrong key,
  // nothing does: 1,000 candidate phones, one of them the erased one.
  const std::set<std::string> hashes = hashes_of(exported);
  REQUIRE(hashes.size() == 3);
  CHECK(hashes.count(hmac(key, "phone:" + kPhone)) == 1);
  CHECK(hashes.count(hmac(key, "email:" + kEmail)) == 1);
  CHECK(hashes.count(hmac(key, "external_id:" + kExt)) == 1);
  CHECK(phone_matches(key, hashes) == 1);
  for (const std::string& guess : {wrong, check, std::string(32, '\0'), hex(check).substr(0, 32)}) {
    CHECK(phone_matches(guess, hashes) == 0);
    CHECK(hashes.count(hmac(guess, "email:" + kEmail)) == 0);
    CHECK(hashes.count(hmac(guess, "external_id:" + kExt)) == 0);
  }

  // Reopening needs the same key.
  CHECK_ERROR(Store::open(path, usd()), ErrorCode::conflict,
              "suppression_key: store '" + path +
                  "' uses a host-supplied suppression key; open it with that key");
  CHECK_ERROR(Store::open(path, keyed(wrong)), ErrorCode::conflict,
              "suppression_key: not the key store '" + path + "' was created with");
  CHECK_ERROR(Store::open(path, keyed(key.substr(0, 31))), ErrorCode::invalid_argument,
              "suppression_key: must be 32 bytes, not 31");
  StoreOptions ro = keyed(wrong);
  ro.read_only = true;
  CHECK_ERROR(Store::open(path, ro), ErrorCode::conflict,
              "suppression_key: not the key store '" + path + "' was created with");
  CHECK(read_bytes(path) == db);  // the refused opens changed nothing

  Store again = Store::open(path, keyed(key));
  CHECK(again.is_suppressed("", "", kPhone));
  CHECK(again.is_suppressed("", "IDA.Keyholder@Keys.Example"));
  CHECK_FALSE(again.is_suppressed("", "", "+4915550009998"));
  Customer back = person("fresh-1", "Ida Again", "", kPhone);
  CHECK_ERROR(again.create_customer(back), ErrorCode::suppressed,
              "customer.contacts[0].value: this phone belongs to an erased customer");
  CHECK(dump(again) == exported);
}

TEST_CASE("the default in-file key: the file and the export hold it, and a host key cannot be "
          "given to such a store", "[store][erase][suppression_key]") {
  TempDir tmp("supkey-default");
  const std::string path = tmp.file("crm.db");
  std::string exported;
  {
    Store s = Store::open(path, usd());
    fill_and_erase(s);
    exported = dump(s);
  }
  // The documented weakness: whoever has the export has the key and finds the phone.
  const nlohmann::json header = lines_of(exported).front();
  CHECK_FALSE(header.contains("suppression_key_mode"));
  const std::string file_key = unhex(header["suppression_key"].get<std::string>());
  REQUIRE(file_key.size() == 32);
  CHECK(read_bytes(path).find(file_key) != std::string::npos);
  CHECK(phone_matches(file_key, hashes_of(exported)) == 1);

  CHECK_ERROR(Store::open(path, keyed(key_of(1))), ErrorCode::conflict,
              "suppression_key: store '" + path +
                  "' keeps its suppression key in the file (it was created without "
                  "suppression_key); a host key cannot be given to it");
  CHECK(Store::open(path, usd()).is_suppressed("", "", kPhone));
}

TEST_CASE("import_jsonl keeps suppression only between stores of the same key",
          "[store][erase][suppression_key][jsonl]") {
  const std::string key = key_of(0x31);
  Store a = Store::open(":memory:", keyed(key));
  fill_and_erase(a);
  const std::string host_export = dump(a);

  SECTION("same key: suppression keeps working, the re-export is identical") {
    Store b = Store::open(":memory:", keyed(key));
    std::istringstream in(host_export);
    b.import_jsonl(in);
    CHECK(b.is_suppressed(kExt, kEmail, kPhone));
    CHECK(b.is_suppressed("", "", kPhone));
    CHECK_ERROR(b.create_customer(person(kExt)), ErrorCode::suppressed,
                "customer.external_id: 'ext-ida' belongs to an erased customer");
    CHECK_ERROR(b.create_customer(person("fresh-2", "X", kEmail)), ErrorCode::suppressed,
                "customer.contacts[0].value: this e-mail belongs to an erased customer");
    CHECK(dump(b) == host_export);
  }
  SECTION("another host key is refused") {
    Store c = Store::open(":memory:", keyed(key_of(0x32)));
    std::istringstream in(host_export);
    CHECK_ERROR(c.import_jsonl(in), ErrorCode::conflict,
                "import: line 1: suppression_key_check: the export's suppression hashes are "
                "keyed with another key than this store's");
    CHECK(c.count_customers(true) == 0);
  }
  SECTION("a default-mode store is refused") {
    Store d = Store::open(":memory:", usd());
    std::istringstream in(host_export);
    CHECK_ERROR(d.import_jsonl(in), ErrorCode::conflict,
                "import: line 1: suppression_key_mode: the export's suppression hashes are keyed "
                "with a host-supplied key; import it into a store opened with that key");
    CHECK(d.count_customers(true) == 0);
  }
  SECTION("a default-mode export with hashes is refused by a host-mode store") {
    Store e = Store::open(":memory:", usd());
    fill_and_erase(e);
    const std::string file_export = dump(e);
    std::size_t first_hash_line = 0;
    {
      std::istringstream in(file_export);
      std::string line;
      for (std::size_t n = 1; std::getline(in, line); ++n)
        if (line.rfind("{\"suppression\"", 0) == 0) {
          first_hash_line = n;
          break;
        }
    }
    REQUIRE(first_hash_line > 1);
    Store f = Store::open(":memory:", keyed(key));
    std::istringstream in(file_export);
    CHECK_ERROR(f.import_jsonl(in), ErrorCode::conflict,
                "import: line " + std::to_string(first_hash_line) +
                    ": suppression: the export's hashes are keyed with its in-file key and this "
                    "store uses a host-supplied key; hashes cannot be re-keyed (import into a "
                    "store created without suppression_key)");
    CHECK(f.count_customers(true) == 0);
  }
  SECTION("a default-mode export without hashes moves into a host-mode store") {
    Store g = Store::open(":memory:", usd());
    const Customer ida = g.create_customer(person(kExt, "Ida Keyholder", kEmail, kPhone));
    std::istringstream in(dump(g));
    Store h = Store::open(":memory:", keyed(key));
    h.import_jsonl(in);
    CHECK(h.get_customer(ida.id).name == "Ida Keyholder");
    const std::string moved = dump(h);
    CHECK(lines_of(moved).front()["suppression_key_mode"] == "host");
    CHECK(moved.find(hex(key)) == std::string::npos);
    h.erase_customer(ida.id);
    CHECK(hashes_of(dump(h)).count(hmac(key, "phone:" + kPhone)) == 1);
  }
}
