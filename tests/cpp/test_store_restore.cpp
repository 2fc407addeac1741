// Tests for the restore path of crmkit/store/store.hpp (issue 9, item 2 and the third Done-when
// bullet): an export of a store that went through every kind of write restores byte-identical,
// and a damaged export (truncated, a line swapped or removed, a byte changed, a refund raised, an
// erased customer given back a name, forged audit or suppression lines) is refused whole with
// Error{corrupt} naming the line, the target store staying empty.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "crmkit/base/error.hpp"
#include "crmkit/lifecycle/machine.hpp"
#include "crmkit/loyalty/points.hpp"
#include "crmkit/store/store.hpp"
#include "jsonl_reseal.hpp"
#include "support.hpp"

using namespace crmkit;
using namespace crmkit::test;
namespace fs = std::filesystem;

namespace {

constexpr const char* kDeals = R"({
  "name": "deal_flow",
  "states": [
    {"name": "new", "initial": true},
    {"name": "qualified"},
    {"name": "won", "terminal": true},
    {"name": "lost", "terminal": true}
  ],
  "transitions": [
    {"name": "qualify", "from": "new", "to": "qualified"},
    {"name": "auto_qualify", "from": "new", "to": "qualified", "manual": false,
     "when": {">=": [{"var": "purchase_count"}, 1]}},
    {"name": "win", "from": "qualified", "to": "won"},
    {"name": "lose", "from": ["new", "qualified"], "to": "lost", "reason_required": true}
  ]
})";

constexpr const char* kClub = R"({"name":"club","currency":"USD","rules":[
  {"name":"spend","kind":"spend","points_per_unit":"1"},
  {"name":"referral","kind":"referral","points":50},
  {"name":"survey","kind":"survey","points":20},
  {"name":"attend","kind":"event_attended","points":30}],
  "tiers":{"tiers":[{"name":"basic","threshold":0},{"name":"silver","threshold":200}],
           "basis":"active_points","downgrade":"automatic"}})";

Machine deals() {
  FactSchema f;
  f.add("purchase_count", FactType::integer);
  return Machine::from_json_text(kDeals, f);
}

Timestamp t(const char* iso) { return Timestamp::parse(iso); }

Event ev(CustomerId c, const char* at, EventPayload payload, std::string key = "") {
  Event e;
  e.customer = c;
  e.at = t(at);
  e.payload = std::move(payload);
  e.idempotency_key = std::move(key);
  return e;
}

// A store that went through every kind of write: fields (one personal), customers with
// contacts, consents, custom fields and a membership, an update, consent changes, every event
// type (refunds and a referral included), an import batch, a soft delete and a restore,
// opportunities (created, updated), manual and automatic transitions, a points programme with
// earned, redeemed and adjusted entries, and last the erasure of Bo, who had personal data in
// every place erasure blanks.
void fill_everything(Store& s) {
  FieldDef tier;
  tier.name = "tier";
  tier.type = FieldType::enumeration;
  tier.enum_values = {"gold", "silver"};
  s.declare_field(tier);
  FieldDef credit;
  credit.name = "credit_limit";
  credit.type = FieldType::money;
  s.declare_field(credit);
  FieldDef nick;
  nick.name = "nickname";
  nick.personal = true;
  s.declare_field(nick);

  Customer org;
  org.external_id = "org-1";
  org.name = "Acme GmbH";
  org.kind = CustomerKind::organisation;
  org = s.create_customer(org);  // 1

  Customer ann = person("c-ann", "Ann Lee", "ann@example.com", "+1 555 0100");
  ann.demographics.region = "East";
  ann.demographics.birth_date = Date(1985, 4, 12);
  ann.tags = {"vip"};
  ann.custom["tier"] = std::string("gold");
  ann.custom["credit_limit"] = m("2500.00");
  ann.custom["nickname"] = std::string("Annie");
  ann.memberships.push_back({org.id, {BuyingRole::acceptor}, RelationshipLevel::partner, "CTO"});
  ann = s.create_customer(ann, {"alice", "crm-ui"});  // 2
  ann.name = "Ann Lee-Smith";
  ann.tags = {"vip", "newsletter"};
  ann = s.update_customer(ann);

  Customer bo = person("c-bo", "Bo Berg", "bo@example.com", "+1 555 0199");
  bo.demographics.gender = "m";
  bo.custom["nickname"] = std::string("Bobby");
  bo.memberships.push_back({org.id, {BuyingRole::power_holder}, RelationshipLevel::ally, "buyer"});
  bo = s.create_customer(bo);  // 3
  Consent k;
  k.channel = Channel::email;
  k.purpose = "marketing";
  k.at = t("2024-01-02T03:04:05Z");
  k.source = "web-form";
  s.set_consent(ann.id, k);
  s.set_consent(bo.id, k);
  k.status = ConsentStatus::withdrawn;
  k.at = t("2024-02-02T00:00:00Z");
  s.set_consent(ann.id, k);

  const Customer cy = s.create_customer(person("c-cy", "Cy"));  // 4
  s.delete_customer(cy.id);
  s.restore_customer(cy.id);

  s.define_points_program(Program::from_json_text(kClub));

  Purchase p;
  p.order_id = "o-1";
  p.amount = m("100.00");
  p.category = "books";
  p.item_count = 2;
  const EventId p1 = s.append_event(ev(ann.id, "2024-03-01T10:00:00Z", p, "key-1")).id;
  Refund r;
  r.purchase = p1;
  r.amount = m("20.00");
  r.reason = "damaged";
  s.append_event(ev(ann.id, "2024-03-05T10:00:00Z", r));
  Interaction i;
  i.kind = InteractionKind::site_visit;
  i.commitment_asked = "pilot";
  i.note = "toured the plant";
  s.append_event(ev(ann.id, "2024-03-06T10:00:00Z", i));
  s.append_event(ev(ann.id, "2024-03-07T10:00:00Z", Referral{bo.id}));
  SurveyResponse sr;
  sr.survey = "nps-2024";
  sr.nps = 9;
  sr.comment = "great";
  s.append_event(ev(ann.id, "2024-03-08T10:00:00Z", sr));
  EventParticipation ep;
  ep.event_name = "Summit";
  ep.role = "speaker";
  s.append_event(ev(ann.id, "2024-03-09T10:00:00Z", ep));
  p.order_id = "o-2";
  p.amount = m("60.00");
  const EventId p2 = s.append_event(ev(bo.id, "2024-03-10T10:00:00Z", p)).id;
  r.purchase = p2;
  r.amount = m("10.00");
  r.reason = "Bo changed his mind";
  s.append_event(ev(bo.id, "2024-03-11T10:00:00Z", r));
  i.note = "Bo's home number is private";
  i.commitment_asked = "call Bo back";
  s.append_event(ev(bo.id, "2024-03-12T10:00:00Z", i));
  sr.comment = "Bo: too slow";
  s.append_event(ev(bo.id, "2024-03-13T10:00:00Z", sr));

  PurchaseImport rows;
  rows.currency = "USD";
  rows.customer_external_id = {"c-cy", "c-new"};
  rows.at = {t("2024-03-14T00:00:00Z"), t("2024-03-15T00:00:00Z")};
  rows.amount = {"9.99", "5.00"};
  rows.order_id = {"x-1", "x-2"};
  rows.idempotency_key = {"imp-1", "imp-2"};
  s.import_purchases(rows);  // creates customer 5

  Opportunity o;
  o.customer = ann.id;
  o.name = "kitchen";
  o.amount = m("1000.00");
  o.expected_close = Date(2025, 6, 30);
  o.pipeline = "deal_flow";
  o = s.create_opportunity(o);  // 1
  o.amount = m("1200.00");
  s.update_opportunity(o);
  Opportunity bo_deal = o;
  bo_deal.customer = bo.id;
  bo_deal.name = "Bo's garden";
  bo_deal = s.create_opportunity(bo_deal);  // 2

  const Machine mach = deals();
  TransitionRequest why;
  why.reason = "met at the fair";
  s.transition(mach, EntityRef::customer(ann.id), "qualified", why);
  s.transition(mach, EntityRef::opportunity(o.id), "qualified");
  why.reason = "Bo called about his divorce";
  s.transition(mach, EntityRef::customer(bo.id), "qualified", why);
  s.transition(mach, EntityRef::opportunity(bo_deal.id), "lost", why);
  PlannedTransition auto_q;
  auto_q.entity = EntityRef::customer(cy.id);
  auto_q.from = "new";
  auto_q.to = "qualified";
  auto_q.rule = "auto_qualify";
  auto_q.at = s.get_customer(cy.id).created_at;
  s.apply_transitions(mach, std::span<const PlannedTransition>(&auto_q, 1));

  s.earn_points("club");
  s.redeem_points("club", ann.id, 50, t("2024-06-01T00:00:00Z"), "r-1", "gift card");
  s.adjust_points("club", bo.id, 10, t("2024-06-01T00:00:00Z"), "goodwill for Bo");

  s.erase_customer(bo.id, {"dpo", "request-17"});
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// The index (0-based) of the first line starting with `prefix`.
std::size_t first_line(const std::vector<std::string>& lines, const std::string& prefix) {
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (lines[i].rfind(prefix, 0) == 0) return i;
  FAIL("no line starting with " << prefix);
  return 0;
}

// The index (0-based) of the first line containing `needle`.
std::size_t line_with(const std::vector<std::string>& lines, const std::string& needle) {
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (lines[i].find(needle) != std::string::npos) return i;
  FAIL("no line containing " << needle);
  return 0;
}

// `text` with the first `from` in line `index` (0-based) replaced by `to`.
std::string edit(const std::string& text, std::size_t index, const std::string& from,
                 const std::string& to) {
  auto lines = lines_of(text);
  const auto at = lines.at(index).find(from);
  REQUIRE(at != std::string::npos);
  lines[index].replace(at, from.size(), to);
  return join(lines);
}

// Imports `text` into a new empty store; it must be refused with Error{corrupt}, leaving the
// store empty. Returns the message.
std::string refused(const std::string& text) {
  Store copy = Store::open(":memory:", usd());
  const std::string empty = dump(copy);
  std::istringstream in(text);
  const Error e = catch_error([&] { copy.import_jsonl(in); });
  CHECK(e.code() == ErrorCode::corrupt);
  CHECK(dump(copy) == empty);
  CHECK(copy.count_customers(true) == 0);
  CHECK(copy.audit_log().empty());
  return e.what();
}

std::string at_line(std::size_t index, const std::string& msg) {
  return "import: line " + std::to_string(index + 1) + ": " + msg;
}

}  // namespace

TEST_CASE("a store that went through every kind of write restores byte-identical",
          "[store][jsonl][restore]") {
  TempDir tmp("restore");
  Store a = Store::open(":memory:", usd());
  fill_everything(a);
  const std::string text = dump(a);
  const auto lines = lines_of(text);

  // Every record kind and every kind of write is in it.
  for (const char* kind : {"field", "customer", "event", "opportunity", "state", "transition",
                           "points_program", "points_entry", "audit", "suppression"})
    CHECK(first_line(lines, std::string("{\"") + kind + "\":") > 0);
  for (const char* type :
       {"purchase", "refund", "interaction", "referral", "survey_response", "event_participation"})
    CHECK(text.find(std::string("\"type\":\"") + type + "\"") != std::string::npos);
  for (const char* action :
       {"create", "update", "consent", "delete", "restore", "erase", "redeem_points",
        "adjust_points", "transition", "declare_field", "define_program", "earn_points",
        "apply_transitions", "import_purchases"})
    CHECK(text.find(std::string("\"action\":\"") + action + "\"") != std::string::npos);
  // Erasure left nothing of Bo.
  for (const char* personal : {"Bo Berg", "bo@example.com", "0199", "Bobby", "buyer",
                               "changed his mind", "home number", "call Bo back", "too slow",
                               "divorce", "goodwill for Bo", "Bo's garden"})
    CHECK(text.find(personal) == std::string::npos);

  // The trailer: the counts of the lines above it, every kind listed.
  REQUIRE(lines.back().rfind("{\"trailer\":{\"counts\":{", 0) == 0);
  auto count = [&](const char* kind) {
    return std::count_if(lines.begin(), lines.end(), [&](const std::string& l) {
      return l.rfind(std::string("{\"") + kind + "\":", 0) == 0;
    });
  };
  CHECK(count("customer") == 5);
  CHECK(count("event") == 12);
  CHECK(count("opportunity") == 2);
  CHECK(count("suppression") == 3);  // Bo's external id, e-mail and phone
  const std::string expected_counts =
      "{\"trailer\":{\"counts\":{\"audit\":" + std::to_string(count("audit")) +
      ",\"customer\":5,\"event\":12,\"field\":3,\"opportunity\":2,\"points_entry\":" +
      std::to_string(count("points_entry")) + ",\"points_program\":1,\"state\":" +
      std::to_string(count("state")) + ",\"suppression\":3,\"transition\":" +
      std::to_string(count("transition")) + "},\"sha256\":\"";
  CHECK(lines.back().rfind(expected_counts, 0) == 0);
  CHECK(lines.back().size() == expected_counts.size() + 64 + 3);
  CHECK(reseal(text) == text);  // the test's independent SHA-256 agrees

  // Restored into an empty file store: the same bytes, through the stream and the file.
  a.export_jsonl(tmp.file("a.jsonl"));
  CHECK(read_bytes(tmp.file("a.jsonl")) == text);
  CHECK_FALSE(fs::exists(tmp.file("a.jsonl.tmp")));
  {
    Store b = Store::open(tmp.file("b.db"), usd());
    b.import_jsonl(tmp.file("a.jsonl"));
    CHECK(dump(b) == text);
    b.export_jsonl(tmp.file("b.jsonl"));
    CHECK(read_bytes(tmp.file("b.jsonl")) == text);
    CHECK(b.get_customer(3).erased);
    CHECK(b.is_suppressed("c-bo", "bo@example.com", ""));
    CHECK(b.is_suppressed("", "", "+1 555 0199"));
    CHECK(b.refundable_amount(1) == m("80.00"));
    CHECK(b.points_account("club", 2, t("2024-06-02T00:00:00Z")).available ==
          a.points_account("club", 2, t("2024-06-02T00:00:00Z")).available);
    CHECK(b.earn_points("club").entries_added == 0);
    // The erased customer cannot be re-created from the restored store.
    auto again = catch_error([&] { b.create_customer(person("c-bo", "Bo Berg")); });
    CHECK(again.code() == ErrorCode::suppressed);
  }
  // Reopened: still the same bytes.
  Store c = Store::open(tmp.file("b.db"));
  CHECK(dump(c) == text);
}

TEST_CASE("a damaged export of it is refused whole and the target stays empty",
          "[store][jsonl][restore]") {
  Store a = Store::open(":memory:", usd());
  fill_everything(a);
  const std::string text = dump(a);
  const auto lines = lines_of(text);
  const std::size_t n = lines.size();
  const std::string no_trailer = "import: the export has no trailer (truncated?)";
  auto first_n = [&](std::size_t k) {
    return join(std::vector<std::string>(lines.begin(), lines.begin() + static_cast<long>(k)));
  };

  SECTION("truncated") {
    CHECK(refused(first_n(first_line(lines, "{\"event\":"))) == no_trailer);
    CHECK(refused(first_n(first_line(lines, "{\"audit\":"))) == no_trailer);
    CHECK(refused(first_n(first_line(lines, "{\"suppression\":"))) == no_trailer);
    CHECK(refused(first_n(n - 1)) == no_trailer);  // just the trailer cut
    CHECK(refused(first_n(1)) == no_trailer);     // the header alone
    // Mid-line: the cut line is not JSON.
    const std::size_t e = first_line(lines, "{\"event\":");
    const std::string mid = first_n(e) + lines[e].substr(0, lines[e].size() / 2);
    CHECK(refused(mid).rfind(at_line(e, ""), 0) == 0);
    const std::string mid_trailer = first_n(n - 1) + lines[n - 1].substr(0, 40);
    CHECK(refused(mid_trailer).rfind(at_line(n - 1, ""), 0) == 0);
    // The trailer kept, a line before it lost: the counts disagree.
    auto lost = lines;
    const std::size_t s = first_line(lines, "{\"state\":");
    lost.erase(lost.begin() + static_cast<long>(s));
    const auto states = std::count_if(lines.begin(), lines.end(), [](const std::string& l) {
      return l.rfind("{\"state\":", 0) == 0;
    });
    CHECK(refused(join(lost)) ==
          at_line(n - 2, "trailer.counts.state: " + std::to_string(states - 1) +
                             " state lines read, the trailer says " + std::to_string(states)));
  }

  SECTION("two lines swapped, one byte changed, a line added") {
    // Two events swapped: the ids no longer ascend.
    const std::size_t e = first_line(lines, "{\"event\":");
    auto swapped = lines;
    std::swap(swapped[e + 1], swapped[e + 2]);  // the refund (2) and the interaction (3)
    CHECK(refused(join(swapped)) == at_line(e + 2, "event.id: 2 after 3 (ids must ascend)"));
    std::swap(swapped[e + 1], swapped[e + 2]);
    std::swap(swapped[e], swapped[e + 1]);  // the refund before its purchase
    CHECK(refused(join(swapped)) == at_line(e, "refund.purchase: no purchase with id 1"));
    // Two states swapped: each line passes its own checks, the checksum does not.
    const std::size_t s = first_line(lines, "{\"state\":");
    REQUIRE(lines[s + 1].rfind("{\"state\":", 0) == 0);
    auto states = lines;
    std::swap(states[s], states[s + 1]);
    CHECK(refused(join(states)).rfind(at_line(n - 1, "trailer.sha256: the lines before the "
                                                     "trailer hash to "), 0) == 0);
    // One byte of a name changed.
    const std::size_t ann = line_with(lines, "Ann Lee-Smith");
    CHECK(refused(edit(text, ann, "Ann Lee-Smith", "Ann Lee-Smitt"))
              .rfind(at_line(n - 1, "trailer.sha256: "), 0) == 0);
    // The trailer's own count edited.
    CHECK(refused(edit(text, n - 1, "\"customer\":5", "\"customer\":6")) ==
          at_line(n - 1, "trailer.counts.customer: 5 customer lines read, the trailer says 6"));
    // A line after the trailer (a second export appended, say).
    CHECK(refused(text + lines[1] + "\n") == at_line(n, "a line after the trailer"));
    // A version 1 header (no trailer to check against).
    CHECK(refused(edit(text, 0, "\"version\":2", "\"version\":1")) ==
          at_line(0, "version: a version 1 export has no trailer (counts and checksum), so a "
                     "truncated one cannot be told from a whole one; it is refused"));
  }

  SECTION("a refund raised, with and without the checksum recomputed") {
    const std::size_t r = line_with(lines, "\"reason\":\"damaged\"");
    const std::string raised = edit(text, r, "\"20.00\"", "\"120.00\"");
    const std::string msg =
        at_line(r, "refund.amount: 120.00 USD is more than the 100.00 USD left of purchase 1");
    CHECK(refused(raised) == msg);
    CHECK(refused(reseal(raised)) == msg);
  }

  SECTION("an erased customer given back personal data") {
    const std::size_t bo = line_with(lines, "\"external_id\":\"erased:3\"");
    CHECK(refused(reseal(edit(text, bo, "\"name\":\"[erased]\"", "\"name\":\"Bo Berg\""))) ==
          at_line(bo, "customer 3: flagged erased, but still carries a name"));
    CHECK(refused(edit(text, bo, "\"name\":\"[erased]\"", "\"name\":\"Bo Berg\"")) ==
          at_line(bo, "customer 3: flagged erased, but still carries a name"));
    CHECK(refused(reseal(edit(text, bo, "\"contacts\":[]",
                              R"("contacts":[{"kind":"email","label":"","primary":false,"value":"bo@example.com"}])"))) ==
          at_line(bo, "customer 3: flagged erased, but still carries contacts"));
    CHECK(refused(reseal(edit(text, bo, "\"external_id\":\"erased:3\"",
                              "\"external_id\":\"c-bo\""))) ==
          at_line(bo, "customer 3: flagged erased, but still carries its external_id"));
    // Bo's interaction with its note back.
    const std::size_t bo_note = [&] {
      for (std::size_t i = 0; i < n; ++i)
        if (lines[i].rfind("{\"event\":", 0) == 0 &&
            lines[i].find("\"customer\":3") != std::string::npos &&
            lines[i].find("\"note\":\"\"") != std::string::npos)
          return i;
      FAIL("no interaction of customer 3");
      return std::size_t{0};
    }();
    const std::string id = lines[bo_note].substr(lines[bo_note].find("\"id\":") + 5,
                                                 lines[bo_note].find(',', lines[bo_note].find("\"id\":")) -
                                                     lines[bo_note].find("\"id\":") - 5);
    CHECK(refused(reseal(edit(text, bo_note, "\"note\":\"\"", "\"note\":\"home number\""))) ==
          at_line(bo_note, "event " + id +
                               ": interaction.note is not blank, but customer 3 is erased"));
  }

  SECTION("forged audit lines") {
    const std::size_t au = first_line(lines, "{\"audit\":");
    CHECK(refused(reseal(edit(text, au, "\"action\":\"declare_field\"", "\"action\":\"grant\""))) ==
          at_line(au, "audit 1: no write makes an entry 'field' / 'grant'"));
    const std::size_t create = line_with(lines, "\"action\":\"create\",\"actor\":\"alice\"");
    CHECK(refused(reseal(edit(text, create, "\"entity_id\":2", "\"entity_id\":99"))) ==
          at_line(create, "audit.entity_id: no customer with id 99"));
    auto swapped = lines;
    std::swap(swapped[au], swapped[au + 1]);
    CHECK(refused(reseal(join(swapped))) ==
          at_line(au + 1, "audit.id: 1 after 2 (ids must ascend)"));
    CHECK(refused(reseal(edit(text, au, "\"at\":\"", "\"at\":\"x"))).rfind(at_line(au, "audit.at: "), 0) == 0);
    // Bo's erase entry with a value: the log of an erased customer keeps no personal data.
    const std::size_t erase = line_with(lines, "\"action\":\"erase\"");
    const std::string erase_id = lines[erase].substr(lines[erase].find("\"id\":") + 5,
                                                     lines[erase].find(',', lines[erase].find("\"id\":")) -
                                                         lines[erase].find("\"id\":") - 5);
    CHECK(refused(reseal(edit(text, erase, "\"old_value\":\"\"", "\"old_value\":\"Bo Berg\""))) ==
          at_line(erase, "audit " + erase_id +
                             ": old_value and new_value are not blank, but they are of an erased "
                             "customer"));
  }

  SECTION("malformed suppression lines") {
    const std::size_t s = first_line(lines, "{\"suppression\":");
    REQUIRE(lines[s + 1].rfind("{\"suppression\":", 0) == 0);
    CHECK(refused(reseal(edit(text, s, "{\"suppression\":{\"hash\":\"", "{\"suppression\":{\"hash\":\"00"))) ==
          at_line(s, "suppression.hash: must be 32 bytes, not 33"));
    CHECK(refused(reseal(edit(text, s, "\"kind\":\"", "\"kind\":\"x"))).rfind(
              at_line(s, "suppression.kind: unknown kind 'x"), 0) == 0);
    auto dup = lines;
    dup[s + 1] = dup[s];
    CHECK(refused(reseal(join(dup))) == at_line(s + 1, "suppression.hash: appears twice"));
    auto order = lines;
    std::swap(order[s], order[s + 1]);
    CHECK(refused(reseal(join(order))) == at_line(s + 1, "suppression.hash: not in hash order"));
  }

  // The intact export still imports.
  Store b = Store::open(":memory:", usd());
  std::istringstream in(text);
  b.import_jsonl(in);
  CHECK(dump(b) == text);
}
