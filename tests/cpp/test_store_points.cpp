// The stored points ledger (store.hpp, points block): programmes, earn_points over real purchase,
// refund, referral, survey and participation events, redemption and adjustment, balances and
// tiers as of several dates, the facts, migration from v3, erasure, export and import.
#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>
#include <string>

#include "crmkit/analytics/facts.hpp"
#include "crmkit/analytics/lifecycle.hpp"
#include "crmkit/base/error.hpp"
#include "crmkit/loyalty/points.hpp"
#include "crmkit/store/store.hpp"
#include "jsonl_reseal.hpp"
#include "support.hpp"

using namespace crmkit;
using namespace crmkit::test;

namespace {

constexpr const char* kClub = R"({"name":"club","currency":"USD","rules":[
  {"name":"spend","kind":"spend","points_per_unit":"1"},
  {"name":"referral","kind":"referral","points":50},
  {"name":"survey","kind":"survey","points":20},
  {"name":"attend","kind":"event_attended","points":30}],
  "tiers":{"tiers":[{"name":"basic","threshold":0},{"name":"silver","threshold":200}],
           "basis":"active_points","downgrade":"automatic"}})";

Timestamp t(const char* iso) { return Timestamp::parse(iso); }

Event referral_event(CustomerId c, CustomerId referred, const char* at) {
  Event e;
  e.customer = c;
  e.at = t(at);
  e.payload = Referral{referred};
  return e;
}

Event survey_event(CustomerId c, const char* at) {
  Event e;
  e.customer = c;
  e.at = t(at);
  SurveyResponse r;
  r.survey = "q1";
  r.nps = 9;
  e.payload = r;
  return e;
}

Event attend_event(CustomerId c, const char* at) {
  Event e;
  e.customer = c;
  e.at = t(at);
  EventParticipation p;
  p.event_name = "launch";
  e.payload = p;
  return e;
}

// Customers 1 (A), 2 (B), 3 (C); programme "club"; A buys 120.50 and 100.00 and refers B; B
// answers a survey and attends an event.
struct Fixture {
  Store s = Store::open(":memory:", usd());
  EventId big = 0;  // A's 100.00 purchase
  Fixture() {
    s.create_customer(person("A"));
    s.create_customer(person("B"));
    s.create_customer(person("C"));
    s.define_points_program(Program::from_json_text(kClub));
    s.append_event(purchase_event(1, "120.50", "2024-01-10T10:00:00Z"));
    s.append_event(referral_event(1, 2, "2024-01-15T10:00:00Z"));
    s.append_event(survey_event(2, "2024-01-20T10:00:00Z"));
    s.append_event(attend_event(2, "2024-01-25T10:00:00Z"));
    big = s.append_event(purchase_event(1, "100.00", "2024-02-01T10:00:00Z")).id;
  }
};

}  // namespace

TEST_CASE("earn_points grants from purchases, referrals, surveys and participations",
          "[store][points]") {
  Fixture f;
  const EarnReport r = f.s.earn_points("club");
  CHECK(r.events_read == 5);
  CHECK(r.entries_added == 5);
  CHECK(r.points_granted == 120 + 50 + 20 + 30 + 100);
  CHECK(r.points_reversed == 0);
  CHECK(r.last_event == 5);
  const auto entries = f.s.points_entries("club");
  REQUIRE(entries.size() == 5);
  // Grouped by customer, in time order within one.
  CHECK(entries[0].customer == 1);
  CHECK(entries[0].points == 120);
  CHECK(entries[0].rule == "spend");
  CHECK(entries[0].event == 1);
  CHECK(entries[1].rule == "referral");
  CHECK(entries[1].points == 50);
  CHECK(entries[2].points == 100);
  CHECK(entries[3].customer == 2);
  CHECK(entries[3].rule == "survey");
  CHECK(entries[4].rule == "attend");
  CHECK(f.s.points_entries("club", 2).size() == 2);

  // Twice adds nothing, and writes no audit entry.
  const auto audit = f.s.audit_log().size();
  const EarnReport again = f.s.earn_points("club");
  CHECK(again.events_read == 0);
  CHECK(again.entries_added == 0);
  CHECK(f.s.points_entries("club").size() == 5);
  CHECK(f.s.audit_log().size() == audit);
  CHECK(f.s.points_programs().at(0).last_event == 5);

  // An interaction moves the watermark but earns nothing.
  Event i;
  i.customer = 3;
  i.at = t("2024-02-02T00:00:00Z");
  Interaction in;
  in.kind = InteractionKind::call;
  in.purpose = ContactPurpose::care;
  i.payload = in;
  f.s.append_event(i);
  const EarnReport third = f.s.earn_points("club");
  CHECK(third.events_read == 0);
  CHECK(third.last_event == 6);

  CHECK_ERROR(f.s.earn_points("nope"), ErrorCode::not_found,
              "program: no points programme 'nope'");
}

TEST_CASE("a partial then a full refund reverses exactly what the purchase earned",
          "[store][points]") {
  Fixture f;
  f.s.earn_points("club");
  f.s.append_event(refund_event(1, f.big, "40.00", "2024-02-10T10:00:00Z"));
  EarnReport r = f.s.earn_points("club");
  CHECK(r.events_read == 1);
  CHECK(r.points_reversed == 40);
  f.s.append_event(refund_event(1, f.big, "60.00", "2024-02-20T10:00:00Z"));
  r = f.s.earn_points("club");
  CHECK(r.points_reversed == 60);
  const auto entries = f.s.points_entries("club", 1);
  REQUIRE(entries.size() == 5);
  CHECK(entries[3].kind == PointsEntryKind::reversal);
  CHECK(entries[3].event == f.big);
  CHECK(entries[4].points == 60);

  // Balances and tier as of several dates.
  const Account jan = f.s.points_account("club", 1, t("2024-01-31T00:00:00Z"));
  CHECK(jan.available == 170);
  CHECK(jan.tier == "basic");
  const Account feb5 = f.s.points_account("club", 1, t("2024-02-05T00:00:00Z"));
  CHECK(feb5.available == 270);
  CHECK(feb5.tier == "silver");
  const Account feb15 = f.s.points_account("club", 1, t("2024-02-15T00:00:00Z"));
  CHECK(feb15.available == 230);
  CHECK(feb15.reversed == 40);
  CHECK(feb15.tier == "silver");
  const Account mar = f.s.points_account("club", 1, t("2024-03-01T00:00:00Z"));
  CHECK(mar.available == 170);
  CHECK(mar.reversed == 100);
  CHECK(mar.earned == 270);
  CHECK(mar.tier == "basic");
  REQUIRE(mar.tier_history.size() == 3);
  CHECK(mar.tier_history[1].to == "silver");
  CHECK(mar.tier_history[1].at == t("2024-02-01T10:00:00Z"));
  CHECK(mar.tier_history[2].at == t("2024-02-20T10:00:00Z"));

  const BalanceColumns b = f.s.points_balances("club", t("2024-02-05T00:00:00Z"));
  REQUIRE(b.customer.size() == 2);
  CHECK(b.customer[0] == 1);
  CHECK(b.available[0] == 270);
  CHECK(b.available[1] == 50);
  CHECK(b.tier[0] == "silver");
  CHECK(b.tier[1] == "basic");
  CHECK(f.s.points_balances("club", t("2024-01-01T00:00:00Z")).customer.empty());
  const auto counts = f.s.tier_counts("club", t("2024-02-05T00:00:00Z"));
  REQUIRE(counts.size() == 2);
  CHECK(counts[0].tier == "basic");
  CHECK(counts[0].customers == 1);
  CHECK(counts[1].customers == 1);
  const auto counts_mar = f.s.tier_counts("club", t("2024-03-01T00:00:00Z"));
  CHECK(counts_mar[0].customers == 2);
  CHECK(counts_mar[1].customers == 0);
  const TierHistoryColumns h = f.s.tier_history("club", t("2024-03-01T00:00:00Z"));
  REQUIRE(h.size() == 4);  // A: "" -> basic -> silver -> basic; B: "" -> basic
  CHECK(h.customer[3] == 2);
  CHECK(h.from[2] == "silver");
  CHECK(h.to[2] == "basic");
}

TEST_CASE("points already spent become debt that later earnings pay first", "[store][points]") {
  Fixture f;
  const EventId p = f.s.append_event(purchase_event(3, "50.00", "2024-03-01T10:00:00Z")).id;
  f.s.earn_points("club");
  const PointsEntry red = f.s.redeem_points("club", 3, 50, t("2024-03-05T00:00:00Z"), "r-1",
                                            "voucher");
  CHECK(red.kind == PointsEntryKind::redeem);
  CHECK(red.points == 50);
  CHECK(red.reason == "voucher");
  f.s.append_event(refund_event(3, p, "50.00", "2024-03-10T10:00:00Z"));
  CHECK(f.s.earn_points("club").points_reversed == 50);
  const Account a = f.s.points_account("club", 3, t("2024-03-11T00:00:00Z"));
  CHECK(a.available == 0);
  CHECK(a.debt == 50);
  CHECK(a.balance() == -50);
  CHECK(a.redeemable() == 0);
  CHECK_ERROR(f.s.redeem_points("club", 3, 1, t("2024-03-12T00:00:00Z")), ErrorCode::conflict,
              "points: 1 asked, 0 redeemable");
  f.s.append_event(purchase_event(3, "80.00", "2024-03-15T10:00:00Z"));
  f.s.earn_points("club");
  const Account later = f.s.points_account("club", 3, t("2024-03-16T00:00:00Z"));
  CHECK(later.debt == 0);
  CHECK(later.redeemable() == 30);
  CHECK(later.balance() == 30);
}

TEST_CASE("an overdraw is refused and changes nothing", "[store][points]") {
  Fixture f;
  f.s.earn_points("club");
  const std::string before = dump(f.s);
  CHECK_ERROR(f.s.redeem_points("club", 1, 271, t("2024-03-01T00:00:00Z")), ErrorCode::conflict,
              "points: 271 asked, 270 redeemable");
  CHECK(dump(f.s) == before);
  // Before the latest entry, in the future, nothing, a bad customer: refused too.
  CHECK_INVALID(f.s.redeem_points("club", 1, 10, t("2024-01-20T00:00:00Z")),
                "at: 2024-01-20T00:00:00Z is before the customer's latest points entry "
                "(2024-02-01T10:00:00Z)");
  CHECK_INVALID(f.s.redeem_points("club", 1, 0, t("2024-03-01T00:00:00Z")),
                "points: must be > 0, got 0");
  CHECK_ERROR(f.s.redeem_points("club", 9, 1, t("2024-03-01T00:00:00Z")), ErrorCode::not_found,
              "customer: no customer with id 9");
  CHECK(dump(f.s) == before);

  // Atomic and idempotent by key.
  const PointsEntry r1 = f.s.redeem_points("club", 1, 70, t("2024-03-01T00:00:00Z"), "k1");
  const PointsEntry r2 = f.s.redeem_points("club", 1, 70, t("2024-03-01T00:00:00Z"), "k1");
  CHECK(r1 == r2);
  CHECK(f.s.points_entries("club", 1).size() == 4);
  CHECK(f.s.points_account("club", 1, t("2024-03-02T00:00:00Z")).available == 200);
  CHECK_ERROR(f.s.redeem_points("club", 2, 10, t("2024-03-01T00:00:00Z"), "k1"),
              ErrorCode::conflict,
              "idempotency_key: 'k1' belongs to another points entry (id 6)");
  const auto audit = f.s.audit_log(1);
  CHECK(audit.back().action == "redeem_points");
  CHECK(audit.back().field == "club");
  CHECK(audit.back().new_value == R"({"entry":6,"points":70})");
}

TEST_CASE("adjustments grant or take back points", "[store][points]") {
  Fixture f;
  f.s.earn_points("club");
  const PointsEntry plus = f.s.adjust_points("club", 2, 25, t("2024-02-01T00:00:00Z"),
                                             "goodwill");
  CHECK(plus.kind == PointsEntryKind::adjustment);
  CHECK(plus.available_at == t("2024-02-01T00:00:00Z"));
  CHECK(!plus.expires_at);
  f.s.adjust_points("club", 2, -100, t("2024-02-02T00:00:00Z"), "error correction");
  const Account b = f.s.points_account("club", 2, t("2024-02-03T00:00:00Z"));
  CHECK(b.available == 0);
  CHECK(b.debt == 25);
  CHECK_INVALID(f.s.adjust_points("club", 2, 5, t("2024-02-03T00:00:00Z"), ""),
                "reason: is required for an adjustment");
}

TEST_CASE("a replaced programme keeps stored lots' dates", "[store][points]") {
  Fixture f;
  f.s.earn_points("club");
  Program p = f.s.points_program("club");
  p.pending_days = 10;
  p.expiry.mode = ExpiryMode::after_days;
  p.expiry.days = 30;
  const PointsProgramInfo info = f.s.define_points_program(p);
  CHECK(info.last_event == 5);
  CHECK(info.updated_at >= info.defined_at);
  CHECK(f.s.points_program("club") == p);
  const Account a = f.s.points_account("club", 1, t("2024-06-01T00:00:00Z"));
  CHECK(a.available == 270);  // granted under the old rules: never expire, no pending period
  REQUIRE(a.lots.size() == 3);
  CHECK(!a.lots[0].expires_at);
  f.s.append_event(purchase_event(1, "10.00", "2024-06-01T00:00:00Z"));
  f.s.earn_points("club");
  const auto e = f.s.points_entries("club", 1).back();
  CHECK(e.available_at == t("2024-06-11T00:00:00Z"));
  CHECK(*e.expires_at == t("2024-07-11T00:00:00Z"));
  Program eur = p;
  eur.currency = "EUR";
  CHECK_INVALID(f.s.define_points_program(eur),
                "currency: the programme's currency is EUR, not the store's USD");
  const auto log = f.s.audit_log();
  bool replaced = false;
  for (const auto& entry : log) replaced = replaced || entry.action == "replace_program";
  CHECK(replaced);
}

TEST_CASE("points facts: redeemable and tier as of a date", "[store][points][facts]") {
  Fixture f;
  // C exists as of the dates below (an interaction) but has no points entry.
  Event call;
  call.customer = 3;
  call.at = t("2024-01-05T00:00:00Z");
  Interaction in;
  in.kind = InteractionKind::call;
  in.purpose = ContactPurpose::care;
  call.payload = in;
  f.s.append_event(call);
  f.s.earn_points("club");
  FactOptions o;
  o.facts = {"purchase_count", "points.club.redeemable", "points.club.tier"};
  const CustomerFacts cf = facts_as_of(f.s, t("2024-02-05T00:00:00Z"), o);
  REQUIRE(cf.size() == 3);
  const FactTable& tab = cf.table;
  REQUIRE(tab.schema().size() == 3);
  CHECK(tab.schema()[1].name == "points.club.redeemable");
  CHECK(tab.schema()[1].type == FactType::integer);
  CHECK(tab.schema()[2].type == FactType::text);
  CHECK(tab.integers(0)[0] == 2);
  CHECK(tab.integers(1)[0] == 270);
  CHECK(tab.texts(2)[0] == "silver");
  CHECK(tab.integers(1)[1] == 50);
  CHECK(tab.texts(2)[1] == "basic");
  // No entry: 0 points, the lowest tier.
  CHECK(tab.integers(1)[2] == 0);
  CHECK(tab.texts(2)[2] == "basic");
  const CustomerFacts jan = facts_as_of(f.s, t("2024-01-31T00:00:00Z"), o);
  CHECK(jan.table.integers(1)[0] == 170);
  CHECK(jan.table.texts(2)[0] == "basic");
  // The store's schema lists them, so rules may read them; the whole catalogue has them too.
  const FactSchema schema = store_fact_schema(f.s);
  CHECK(schema.find("points.club.tier"));
  CHECK(schema.find("points.club.redeemable"));
  const CustomerFacts all = facts_as_of(f.s, t("2024-02-05T00:00:00Z"));
  CHECK(all.table.schema().find("points.club.tier"));
  // One customer.
  const CustomerFacts one = customer_facts(f.s, 1, t("2024-02-05T00:00:00Z"), o);
  CHECK(one.table.integers(1)[0] == 270);
  o.facts = {"points.nope.tier"};
  CHECK_INVALID(facts_as_of(f.s, t("2024-02-05T00:00:00Z"), o),
                "facts[0]: unknown fact 'points.nope.tier'");
}

TEST_CASE("erasure blanks entry reasons and keeps the numbers", "[store][points]") {
  Fixture f;
  f.s.earn_points("club");
  f.s.redeem_points("club", 1, 20, t("2024-03-01T00:00:00Z"), "", "birthday gift for Ada");
  CHECK(dump(f.s).find("birthday gift for Ada") != std::string::npos);
  f.s.erase_customer(1);
  CHECK(dump(f.s).find("birthday gift for Ada") == std::string::npos);
  const auto e = f.s.points_entries("club", 1);
  REQUIRE(e.size() == 4);
  CHECK(e[3].reason.empty());
  CHECK(e[3].points == 20);
  CHECK(f.s.points_account("club", 1, t("2024-03-02T00:00:00Z")).available == 250);
  CHECK_ERROR(f.s.redeem_points("club", 1, 1, t("2024-03-02T00:00:00Z")), ErrorCode::conflict,
              "customer: customer 1 is erased");
}

TEST_CASE("export and import round-trip programmes and entries; a tampered file is refused",
          "[store][points]") {
  Fixture f;
  f.s.earn_points("club");
  f.s.redeem_points("club", 1, 110, t("2024-03-01T00:00:00Z"), "k", "r");
  const std::string text = dump(f.s);
  CHECK(text.find("{\"points_program\":") != std::string::npos);
  Store copy = Store::open(":memory:", usd());
  std::istringstream in(text);
  copy.import_jsonl(in);
  CHECK(dump(copy) == text);
  CHECK(copy.points_entries("club").size() == 6);
  CHECK(copy.points_account("club", 1, t("2024-03-02T00:00:00Z")).available == 160);
  CHECK(copy.earn_points("club").entries_added == 0);  // the watermark came along

  // The redemption raised above what was redeemable: refused, naming the line.
  std::string tampered = text;
  const std::string from = "\"points\":110,\"program\":\"club\"";
  const auto pos = tampered.find(from);
  REQUIRE(pos != std::string::npos);
  tampered.replace(pos, from.size(), "\"points\":300,\"program\":\"club\"");
  std::size_t line = 1;
  for (std::size_t i = 0; i < pos; ++i) line += tampered[i] == '\n';
  Store bad = Store::open(":memory:", usd());
  std::istringstream tin(reseal(tampered));  // counts and checksum agree: the replay refuses it
  CHECK_ERROR(bad.import_jsonl(tin), ErrorCode::corrupt,
              "import: line " + std::to_string(line) +
                  ": points_entry 6: points: 300 asked, 270 redeemable");
  CHECK(bad.count_customers() == 0);

  // An entry of an unknown customer.
  std::string orphan = text;
  const std::string c1 = "\"customer\":2,\"event\":3";
  const auto p2 = orphan.find(c1);
  REQUIRE(p2 != std::string::npos);
  orphan.replace(p2, c1.size(), "\"customer\":9,\"event\":3");
  line = 1;
  for (std::size_t i = 0; i < p2; ++i) line += orphan[i] == '\n';
  Store bad2 = Store::open(":memory:", usd());
  std::istringstream oin(orphan);
  CHECK_ERROR(bad2.import_jsonl(oin), ErrorCode::corrupt,
              "import: line " + std::to_string(line) +
                  ": points_entry.customer: no customer with id 9");
}

TEST_CASE("a v3 store migrates to v4 and earns points from its ledger", "[store][points]") {
  TempDir tmp("points");
  const std::string path = tmp.file("v3.crmkit");
  std::filesystem::copy_file(std::string(CRMKIT_TEST_DATA_DIR) + "/store_v3.crmkit", path);
  Store s = Store::open(path);
  CHECK(s.schema_version() == 4);
  CHECK(s.points_programs().empty());
  s.define_points_program(Program::from_json_text(kClub));
  const EarnReport r = s.earn_points("club");
  CHECK(r.events_read == 10);  // 6 purchases, 2 refunds, a referral, a survey response
  CHECK(r.points_reversed > 0);
  CHECK(s.earn_points("club").entries_added == 0);
  s.close();
  Store again = Store::open(path);
  CHECK(again.points_entries("club").size() == r.entries_added);
}

TEST_CASE("an event dated before a customer's latest entry still earns, in time order",
          "[store][points]") {
  Fixture f;
  f.s.earn_points("club");
  f.s.redeem_points("club", 1, 70, t("2024-03-01T00:00:00Z"));
  f.s.append_event(purchase_event(1, "30.00", "2024-02-15T00:00:00Z"));  // imported late
  const EarnReport r = f.s.earn_points("club");
  CHECK(r.points_granted == 30);
  const auto e = f.s.points_entries("club", 1);
  REQUIRE(e.size() == 5);
  CHECK(e[4].at == t("2024-02-15T00:00:00Z"));
  CHECK(f.s.points_account("club", 1, t("2024-02-20T00:00:00Z")).available == 300);
  CHECK(f.s.points_account("club", 1, t("2024-03-02T00:00:00Z")).available == 230);
}

TEST_CASE("spend entries (spend_window tiers) keep their amounts through export and import",
          "[store][points]") {
  Store s = Store::open(":memory:", usd());
  s.create_customer(person("A"));
  s.define_points_program(Program::from_json_text(R"({"name":"vip","currency":"USD",
    "rules":[{"name":"spend","kind":"spend","points_per_unit":"1"}],
    "tiers":{"tiers":[{"name":"base","threshold":0},{"name":"vip","threshold":100}],
             "basis":"spend_window","window_days":365}})"));
  const EventId p = s.append_event(purchase_event(1, "120.50", "2024-01-10T00:00:00Z")).id;
  s.append_event(refund_event(1, p, "50.25", "2024-01-20T00:00:00Z"));
  s.earn_points("vip");
  const auto e = s.points_entries("vip");
  REQUIRE(e.size() == 4);  // spend, earn; spend (negative), reversal
  CHECK(e[0].kind == PointsEntryKind::spend);
  CHECK(e[0].amount == m("120.50"));
  CHECK(e[2].kind == PointsEntryKind::spend);
  CHECK(e[2].amount == m("-50.25"));
  CHECK(s.points_account("vip", 1, t("2024-01-15T00:00:00Z")).tier == "vip");
  CHECK(s.points_account("vip", 1, t("2024-01-25T00:00:00Z")).tier == "base");
  const std::string text = dump(s);
  Store copy = Store::open(":memory:", usd());
  std::istringstream in(text);
  copy.import_jsonl(in);
  CHECK(dump(copy) == text);
  CHECK(copy.points_entries("vip") == e);
}
