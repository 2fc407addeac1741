// Tests for export_jsonl / import_jsonl of crmkit/store/store.hpp: determinism and a byte-identical
// round trip of a store holding every kind of record.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "crmkit/base/error.hpp"
#include "crmkit/store/store.hpp"
#include "jsonl_reseal.hpp"
#include "support.hpp"

using namespace crmkit;
using namespace crmkit::test;
namespace fs = std::filesystem;

namespace {

Event at(CustomerId c, std::int64_t seconds, EventPayload payload, std::string key = "") {
  Event e;
  e.customer = c;
  e.at = Timestamp::from_seconds(seconds);
  e.payload = std::move(payload);
  e.idempotency_key = std::move(key);
  return e;
}

// A store with every event type, consents, custom fields, memberships, a deleted and an erased
// customer, an import batch and a suppression list.
void fill(Store& s) {
  FieldDef tier;
  tier.name = "tier";
  tier.type = FieldType::enumeration;
  tier.enum_values = {"gold", "silver"};
  s.declare_field(tier);
  FieldDef credit;
  credit.name = "credit_limit";
  credit.type = FieldType::money;
  s.declare_field(credit);
  FieldDef born;
  born.name = "first_order";
  born.type = FieldType::date;
  s.declare_field(born);
  FieldDef rate;
  rate.name = "discount";
  rate.type = FieldType::decimal;
  s.declare_field(rate);
  FieldDef nick;
  nick.name = "nickname";
  nick.personal = true;
  s.declare_field(nick);

  Customer org;
  org.external_id = "org-1";
  org.name = "Acme GmbH";
  org.kind = CustomerKind::organisation;
  org = s.create_customer(org);

  Customer ann;
  ann.external_id = "c-ann";
  ann.name = "Ann Lee \xE6\x9D\x8E";  // with a CJK character
  ann.contacts = {{ContactKind::email, "ann@example.com", "work", true},
                  {ContactKind::phone, "+86 138 0013 8000", "", false},
                  {ContactKind::im, "WeChat:ann_lee", "", false},
                  {ContactKind::postal, "1 Main St, Springfield", "home", false}};
  ann.demographics.region = "East";
  ann.demographics.gender = "f";
  ann.demographics.birth_date = Date(1985, 4, 12);
  ann.demographics.interests = {"jazz", "hiking"};
  ann.demographics.household_size = 3;
  ann.preferred_channel = Channel::email;
  ann.max_contacts_per_30_days = 4;
  ann.tags = {"vip", "newsletter"};
  ann.owner = "sales-7";
  ann.acquisition_source = "fair-2024";
  ann.custom["tier"] = std::string("gold");
  ann.custom["credit_limit"] = m("2500.00");
  ann.custom["first_order"] = Date(2020, 2, 29);
  ann.custom["discount"] = Decimal::parse("0.075");
  ann.custom["nickname"] = std::string("Annie");
  ann.memberships.push_back(
      {org.id, {BuyingRole::acceptor, BuyingRole::power_holder}, RelationshipLevel::partner, "CTO"});
  ann = s.create_customer(ann, {"alice", "crm-ui"});
  Consent k;
  k.channel = Channel::sms;
  k.purpose = "marketing";
  k.at = Timestamp::parse("2024-01-02T03:04:05.25Z");
  k.source = "web-form";
  k.legal_basis = LegalBasis::consent;
  s.set_consent(ann.id, k);

  Customer bo;
  bo.external_id = "c-bo";
  bo.name = "Bo";
  bo.contacts = {{ContactKind::email, "bo@example.com", "", true}};
  bo = s.create_customer(bo);
  Customer cy;
  cy.external_id = "c-cy";
  cy.name = "Cy \"quoted\" \\ back";
  cy = s.create_customer(cy);
  s.delete_customer(cy.id);

  Purchase p;
  p.order_id = "o-1";
  p.amount = m("120.00");
  p.category = "books";
  p.essential = false;
  p.item_count = 3;
  EventId p1 = s.append_event(at(ann.id, 1700000000, p, "key-1"), {"till-3", "pos"}).id;
  Refund r;
  r.purchase = p1;
  r.amount = m("20.00");
  r.reason = "damaged";
  s.append_event(at(ann.id, 1700000100, r));
  Interaction i;
  i.kind = InteractionKind::site_visit;
  i.purpose = ContactPurpose::intelligence;
  i.commitment_asked = "pilot";
  i.commitment_obtained = true;
  i.note = "toured the plant";
  s.append_event(at(ann.id, 1700000200, i));
  s.append_event(at(ann.id, 1700000300, Referral{bo.id}));
  SurveyResponse sr;
  sr.survey = "nps-2024";
  sr.nps = 10;
  sr.csat = 5;
  sr.comment = "great";
  s.append_event(at(ann.id, 1700000400, sr));
  EventParticipation ep;
  ep.event_name = "Summit";
  ep.role = "speaker";
  s.append_event(at(ann.id, 1700000500, ep));
  SurveyResponse only_nps;
  only_nps.nps = 3;
  s.append_event(at(bo.id, 1700000600, only_nps));
  Interaction bo_note;
  bo_note.note = "Bo said his number is private";
  s.append_event(at(bo.id, 1700000700, bo_note));

  PurchaseImport rows;
  rows.currency = "USD";
  rows.customer_external_id = {"c-bo", "c-new"};
  rows.at = {Timestamp::from_seconds(1700001000), Timestamp::from_seconds(1700002000)};
  rows.amount = {"9.99", "0"};
  rows.order_id = {"x-1", ""};
  rows.idempotency_key = {"imp-1", "imp-2"};
  s.import_purchases(rows);

  s.erase_customer(bo.id, {"dpo", "request-17"});
}

}  // namespace

TEST_CASE("export, import into an empty store and export again is byte-identical", "[store][jsonl]") {
  TempDir tmp("jsonl");
  Store a = Store::open(":memory:", usd());
  fill(a);
  const std::string first = dump(a);
  CHECK(dump(a) == first);  // deterministic

  a.export_jsonl(tmp.file("a.jsonl"));
  CHECK(read_bytes(tmp.file("a.jsonl")) == first);
  CHECK_FALSE(fs::exists(tmp.file("a.jsonl.tmp")));

  // Header line first, then the sections in order.
  const std::string header = first.substr(0, first.find('\n'));
  CHECK(header.rfind(R"({"currency":"USD","format":"crmkit-jsonl","schema_version":4,"suppression_key":")", 0) == 0);
  CHECK(header.size() == 158);  // with 64 hex digits of key
  CHECK(first.find("{\"field\":") < first.find("{\"customer\":"));
  CHECK(first.find("{\"customer\":") < first.find("{\"event\":"));
  CHECK(first.find("{\"event\":") < first.find("{\"audit\":"));
  CHECK(first.find("{\"audit\":") < first.find("{\"suppression\":"));
  CHECK(header.find("\"version\":2") != std::string::npos);
  // Last the trailer (issue 9): counts of each record kind and the SHA-256 of the lines above.
  const auto last = first.rfind('\n', first.size() - 2) + 1;
  CHECK(first.substr(last, first.size() - last - 68) ==
        R"({"trailer":{"counts":{"audit":13,"customer":5,"event":10,"field":5,"opportunity":0,)"
        R"("points_entry":0,"points_program":0,"state":0,"suppression":2,"transition":0},)"
        R"("sha256":")");
  CHECK(reseal(first) == first);
  CHECK(first.find("Annie") != std::string::npos);
  CHECK(first.find("bo@example.com") == std::string::npos);

  Store b = Store::open(tmp.file("b.db"), usd());
  b.import_jsonl(tmp.file("a.jsonl"));
  CHECK(dump(b) == first);
  CHECK(b.audit_log().size() == a.audit_log().size());
  CHECK(b.get_customer(2) == a.get_customer(2));
  CHECK(b.get_event(2) == a.get_event(2));
  CHECK(b.fields() == a.fields());
  CHECK(b.summary().net_revenue == a.summary().net_revenue);
  CHECK(b.summary().net_revenue == m("109.99"));
  CHECK(b.get_customer(4).deleted);
  CHECK(b.get_customer(3).erased);
  // The suppression key came along, so the erased customer stays suppressed.
  CHECK(b.is_suppressed("c-bo"));
  CHECK(b.is_suppressed("", "bo@example.com"));
  CHECK(b.get_customer_by_email("ann@example.com").id == 2);
  CHECK(b.refundable_amount(1) == m("100.00"));

  // New ids continue after the imported ones.
  Customer d;
  d.external_id = "c-dee";
  d.name = "Dee";
  CHECK(b.create_customer(d).id == 6);

  // Reopen the file and export once more: still the same records.
  b.close();
  Store c = Store::open(tmp.file("b.db"));
  const std::string again = dump(c);
  CHECK(again.find("c-dee") != std::string::npos);
}

TEST_CASE("import_jsonl refuses a non-empty store and another currency", "[store][jsonl]") {
  Store a = Store::open(":memory:", usd());
  fill(a);
  const std::string text = dump(a);

  Store busy = Store::open(":memory:", usd());
  Customer x;
  x.external_id = "x";
  x.name = "X";
  busy.create_customer(x);
  const std::string before = dump(busy);
  std::istringstream in1(text);
  auto e = catch_error([&] { busy.import_jsonl(in1); });
  CHECK(e.code() == ErrorCode::conflict);
  CHECK(std::string(e.what()) ==
        "store: import_jsonl needs an empty store (it has 1 customers, 0 events, 0 fields)");
  CHECK(dump(busy) == before);

  StoreOptions eur;
  eur.currency = "EUR";
  Store euro = Store::open(":memory:", eur);
  std::istringstream in2(text);
  auto c = catch_error([&] { euro.import_jsonl(in2); });
  CHECK(c.code() == ErrorCode::conflict);
  CHECK(std::string(c.what()) ==
        "import: line 1: currency: the export's currency is USD, not the store's EUR");
  CHECK(euro.count_customers() == 0);
}

TEST_CASE("a damaged export is refused naming the line, and nothing is imported", "[store][jsonl]") {
  Store a = Store::open(":memory:", usd());
  fill(a);
  const std::string text = dump(a);
  std::vector<std::string> lines;
  {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
  }
  REQUIRE(lines.size() > 10);
  auto join = [&](const std::vector<std::string>& ls) {
    std::string out;
    for (const auto& l : ls) out += l + "\n";
    return out;
  };

  Store b = Store::open(":memory:", usd());
  const std::string empty = dump(b);

  auto broken = lines;
  broken[7] = broken[7].substr(0, broken[7].size() / 2);  // cut in the middle
  std::istringstream in1(join(broken));
  auto e1 = catch_error([&] { b.import_jsonl(in1); });
  CHECK(e1.code() == ErrorCode::corrupt);
  CHECK(std::string(e1.what()).rfind("import: line 8: ", 0) == 0);
  CHECK(dump(b) == empty);

  auto bad_value = lines;
  bad_value.insert(bad_value.end() - 1, R"({"event":{"id":99,"customer":2,"at":"2024-01-01T00:00:00Z","type":"purchase","purchase":{"amount":{"amount":"1.001","currency":"USD"}}}})");
  std::istringstream in2(join(bad_value));
  auto e2 = catch_error([&] { b.import_jsonl(in2); });
  CHECK(e2.code() == ErrorCode::corrupt);  // a refused restore is corrupt, whatever the check
  CHECK(std::string(e2.what()).rfind("import: line " + std::to_string(bad_value.size() - 1) + ": ", 0) == 0);
  CHECK(dump(b) == empty);

  auto not_export = lines;
  not_export[0] = R"({"format":"something-else"})";
  std::istringstream in3(join(not_export));
  auto e3 = catch_error([&] { b.import_jsonl(in3); });
  CHECK(e3.code() == ErrorCode::corrupt);
  CHECK(std::string(e3.what()) == "import: line 1: format: not a crmkit-jsonl export");
  CHECK(dump(b) == empty);
  CHECK(b.count_customers(true) == 0);
}

TEST_CASE("export to an unwritable path throws storage and leaves nothing", "[store][jsonl]") {
  TempDir tmp("jsonl");
  Store a = Store::open(":memory:", usd());
  const std::string path = tmp.file("missing-dir/out.jsonl");
  auto e = catch_error([&] { a.export_jsonl(path); });
  CHECK(e.code() == ErrorCode::storage);
  CHECK_FALSE(fs::exists(path));
  CHECK_FALSE(fs::exists(path + ".tmp"));
}

TEST_CASE("refunds are checked the same on a live append and on a restore", "[store][jsonl]") {
  // Issue 9: import_jsonl accepted a refund above its purchase (negative refundable amount) and
  // a refund of a purchase that does not exist; the live API accepted a refund dated before its
  // purchase.
  Store a = Store::open(":memory:", usd());
  const CustomerId c = a.create_customer(person("r")).id;
  const EventId pid = a.append_event(purchase_event(c, "50.00", "2024-03-01T10:00:00Z")).id;
  a.append_event(refund_event(c, pid, "20.00", "2024-03-05T00:00:00Z"));
  const std::string before_live = dump(a);
  CHECK_INVALID(a.append_event(refund_event(c, pid, "1.00", "2024-02-01T00:00:00Z")),
                "refund.at: 2024-02-01T00:00:00Z is before purchase " + std::to_string(pid) +
                    " (2024-03-01T10:00:00Z)");
  CHECK(dump(a) == before_live);

  const std::string text = dump(a);
  auto tamper = [&](const std::string& from, const std::string& to, std::size_t& line) {
    std::string t = text;
    const auto line_start = t.rfind('\n', t.find("\"refund\":")) + 1;  // the refund's line
    const auto at = t.find(from, line_start);
    REQUIRE(at != std::string::npos);
    line = static_cast<std::size_t>(
               std::count(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(at), '\n')) + 1;
    t.replace(at, from.size(), to);
    return t;
  };
  Store b = Store::open(":memory:", usd());
  const std::string empty = dump(b);
  std::size_t line = 0;

  std::istringstream raised(tamper("\"20.00\"", "\"70.00\"", line));
  const Error e1 = catch_error([&] { b.import_jsonl(raised); });
  CHECK(e1.code() == ErrorCode::corrupt);
  CHECK(std::string(e1.what()) == "import: line " + std::to_string(line) +
                                      ": refund.amount: 70.00 USD is more than the 50.00 USD "
                                      "left of purchase " + std::to_string(pid));
  CHECK(dump(b) == empty);

  std::istringstream early(tamper("2024-03-05T00:00:00Z", "2024-02-05T00:00:00Z", line));
  const Error e2 = catch_error([&] { b.import_jsonl(early); });
  CHECK(std::string(e2.what()).rfind("import: line " + std::to_string(line) + ": refund.at: ", 0) == 0);
  CHECK(dump(b) == empty);

  std::istringstream orphan(tamper("\"purchase\":" + std::to_string(pid),
                                   "\"purchase\":" + std::to_string(pid + 100), line));
  const Error e3 = catch_error([&] { b.import_jsonl(orphan); });
  CHECK(e3.code() == ErrorCode::corrupt);
  CHECK(std::string(e3.what()) == "import: line " + std::to_string(line) +
                                      ": refund.purchase: no purchase with id " +
                                      std::to_string(pid + 100));
  CHECK(dump(b) == empty);

  std::istringstream intact(text);
  b.import_jsonl(intact);
  CHECK(dump(b) == text);
}
