// Tests for crmkit/analytics/facts.hpp: each standard fact on a hand-built ledger with exact
// values (window boundaries, refunds before and after as_of, a fully refunded purchase, missing
// values, consent, tags, custom fields, machine stages), declared windows from JSON with their
// path errors, RFM and P(alive) on the CDNOW sample against the value layer, and the store-level
// calls (the one-row form equals its row of the all-customers form).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "crmkit/analytics/analytics.hpp"
#include "crmkit/analytics/facts.hpp"
#include "crmkit/base/error.hpp"
#include "crmkit/value/rfm.hpp"
#include "crmkit/value/summary.hpp"
#include "support.hpp"

using namespace crmkit;
using crmkit::test::m;
using crmkit::test::person;
using crmkit::test::usd;

namespace {

std::int64_t t(const char* text) { return Timestamp::parse(text).micros(); }

// One cell as text: "-" for missing.
std::string cell(const FactTable& table, std::size_t row, std::size_t slot) {
  if (!table.is_present(row, slot)) return "-";
  std::ostringstream out;
  switch (table.schema()[slot].type) {
    case FactType::number: out << table.numbers(slot)[row]; break;
    case FactType::integer:
    case FactType::date: out << table.integers(slot)[row]; break;
    case FactType::boolean: out << (table.booleans(slot)[row] ? "true" : "false"); break;
    case FactType::text: out << table.texts(slot)[row]; break;
    case FactType::text_list: {
      out << "[";
      const auto& list = table.text_lists(slot)[row];
      for (std::size_t i = 0; i < list.size(); ++i) out << (i ? "," : "") << list[i];
      out << "]";
      break;
    }
  }
  return out.str();
}

std::string cell(const CustomerFacts& f, CustomerId id, const std::string& name) {
  for (std::size_t r = 0; r < f.size(); ++r) {
    if (f.customer_id[r] == id) return cell(f.table, r, f.table.schema().slot(name));
  }
  FAIL("no row for customer " << id);
  return {};
}

// A row as "name=value" lines, for comparing rows of two tables.
std::string render(const FactTable& table, std::size_t row) {
  std::string out;
  for (std::size_t s = 0; s < table.schema().size(); ++s) {
    out += table.schema()[s].name + "=" + cell(table, row, s) + "\n";
  }
  return out;
}

// The hand-built ledger (as_of = 2024-06-30T12:00:00Z). Customer 1 does everything; 2 has a
// fully refunded purchase and an old one; 3 has nothing; 5 was created after as_of with no
// event (not a row); 6 was created after as_of but has an interaction before it (a row).
struct Ledger {
  std::vector<CustomerId> customer_id = {3, 1, 2, 5, 6};
  std::vector<std::int64_t> created = {t("2024-03-01T00:00:00Z"), t("2024-01-01T00:00:00Z"),
                                       t("2022-12-31T00:00:00Z"), t("2024-07-01T00:00:00Z"),
                                       t("2024-08-01T00:00:00Z")};
  // Purchases 1..6.
  std::vector<EventId> p_id = {1, 2, 3, 4, 5, 6};
  std::vector<CustomerId> p_cust = {1, 1, 1, 1, 2, 2};
  std::vector<std::int64_t> p_at = {
      t("2024-04-01T12:00:00Z"),  // exactly 90 days before as_of: outside the 90-day window
      t("2024-04-01T12:00:01Z"),  // 89 days 23:59:59 before: inside
      t("2024-06-30T12:00:00Z"),  // at as_of: counts
      t("2024-06-30T12:00:01Z"),  // after as_of: ignored
      t("2024-06-01T00:00:00Z"),  // fully refunded before as_of
      t("2023-01-01T00:00:00Z")};  // 546 days before
  std::vector<std::int64_t> p_amount = {10000, 5000, 2500, 99900, 4000, 1000};
  // Refunds: 20.00 of purchase 2 before as_of, 10.00 of it after; purchase 5 in full.
  std::vector<EventId> r_of = {2, 2, 5};
  std::vector<std::int64_t> r_at = {t("2024-05-01T00:00:00Z"), t("2024-07-15T00:00:00Z"),
                                    t("2024-06-10T00:00:00Z")};
  std::vector<std::int64_t> r_amount = {2000, 1000, 4000};
  // Interactions.
  std::vector<CustomerId> i_cust = {1, 1, 1, 1, 6};
  std::vector<std::int64_t> i_at = {t("2024-06-20T00:00:00Z"), t("2024-03-01T12:00:00Z"),
                                    t("2023-06-30T12:00:00Z"),  // 366 days: outside 365
                                    t("2024-07-01T00:00:00Z"),  // after as_of
                                    t("2024-06-29T12:00:00Z")};
  std::vector<std::uint8_t> i_kind = {8, 0, 2, 8, 1};      // meeting, call, email, meeting, visit
  std::vector<std::uint8_t> i_purpose = {2, 3, 0, 2, 0};   // deal, service, care, deal, care
  std::vector<std::uint8_t> i_obtained = {1, 0, 0, 1, 0};
  // Referrals by customer 1: one before as_of, one after.
  std::vector<CustomerId> ref_cust = {1, 1};
  std::vector<std::int64_t> ref_at = {t("2024-02-01T00:00:00Z"), t("2024-07-02T00:00:00Z")};
  // Surveys of customer 1: nps 9 csat 4, then nps 6 alone, then (after as_of) nps 0.
  std::vector<CustomerId> s_cust = {1, 1, 1};
  std::vector<std::int64_t> s_at = {t("2024-05-01T00:00:00Z"), t("2024-06-01T00:00:00Z"),
                                    t("2024-07-01T00:00:00Z")};
  std::vector<std::int8_t> s_nps = {9, 6, 0};
  std::vector<std::int8_t> s_csat = {4, -1, 5};
  // Participations of customer 1.
  std::vector<CustomerId> e_cust = {1, 1};
  std::vector<std::int64_t> e_at = {t("2023-01-01T00:00:00Z"), t("2024-06-01T00:00:00Z")};
  // Consents: 1 email granted (marketing, then service too), sms withdrawn, phone granted after
  // as_of; 2 email withdrawn.
  std::vector<CustomerId> c_cust = {1, 1, 1, 2, 1};
  std::vector<std::uint8_t> c_channel = {0, 2, 1, 0, 0};
  std::vector<std::string> c_purpose = {"service", "marketing", "marketing", "marketing",
                                        "marketing"};
  std::vector<std::uint8_t> c_granted = {1, 0, 1, 0, 1};
  std::vector<std::int64_t> c_at = {t("2024-01-01T00:00:00Z"), t("2024-02-01T00:00:00Z"),
                                    t("2024-08-01T00:00:00Z"), t("2024-01-01T00:00:00Z"),
                                    t("2024-03-01T00:00:00Z")};
  std::vector<CustomerId> tag_cust = {1, 1};
  std::vector<std::string> tags = {"vip", "b2b"};
  std::vector<FieldColumns> fields;
  std::vector<MachineStageColumns> machines;

  Ledger() {
    FieldDef tier;
    tier.name = "tier";
    tier.type = FieldType::enumeration;
    tier.enum_values = {"gold", "silver"};
    FieldDef score;
    score.name = "score";
    score.type = FieldType::decimal;
    fields.push_back(FieldColumns{tier, {1}, {FieldValue(std::string("gold"))}});
    fields.push_back(FieldColumns{score, {2}, {FieldValue(Decimal::parse("12.5"))}});
    machines.push_back(MachineStageColumns{"customer_lifecycle",
                                           {1, 2},
                                           {"growth", "maturity"},
                                           {t("2024-06-01T12:00:00Z"), t("2024-07-01T00:00:00Z")}});
  }

  FactColumns columns() const {
    FactColumns c;
    c.scale = 2;
    c.customer_id = customer_id;
    c.created_at_micros = created;
    c.purchase_event_id = p_id;
    c.purchase_customer_id = p_cust;
    c.purchase_at_micros = p_at;
    c.purchase_amount_minor = p_amount;
    c.refund_purchase_id = r_of;
    c.refund_at_micros = r_at;
    c.refund_amount_minor = r_amount;
    c.interaction_customer_id = i_cust;
    c.interaction_at_micros = i_at;
    c.interaction_kind = i_kind;
    c.interaction_purpose = i_purpose;
    c.interaction_commitment_obtained = i_obtained;
    c.referral_customer_id = ref_cust;
    c.referral_at_micros = ref_at;
    c.survey_customer_id = s_cust;
    c.survey_at_micros = s_at;
    c.survey_nps = s_nps;
    c.survey_csat = s_csat;
    c.participation_customer_id = e_cust;
    c.participation_at_micros = e_at;
    c.consent_customer_id = c_cust;
    c.consent_channel = c_channel;
    c.consent_purpose = c_purpose;
    c.consent_granted = c_granted;
    c.consent_at_micros = c_at;
    c.tag_customer_id = tag_cust;
    c.tag = tags;
    c.fields = fields;
    c.machines = machines;
    return c;
  }
};

const Timestamp kAsOf = Timestamp::parse("2024-06-30T12:00:00Z");

}  // namespace

TEST_CASE("the catalogue lists the standard facts, fields, machines and windows") {
  FieldDef tier;
  tier.name = "tier";
  tier.type = FieldType::money;
  const std::vector<FieldDef> fields = {tier};
  const std::vector<std::string> machines = {"customer_lifecycle"};
  WindowFact w;
  w.name = "meetings_180d";
  w.event = WindowEvent::interaction;
  w.kind = InteractionKind::meeting;
  w.window_days = 180;
  const std::vector<WindowFact> windows = {w};
  const FactSchema s = standard_fact_schema(fields, machines, windows);
  CHECK(s.size() == 61);  // the 57 standard facts, then the field, machine and window facts
  CHECK(s[0].name == "purchase_count");
  CHECK(s[s.slot("interactions_365d.site_visit")].type == FactType::integer);
  CHECK(s[s.slot("consent.email.purposes")].type == FactType::text_list);
  CHECK(s[s.slot("interactions_365d.intelligence")].type == FactType::integer);
  CHECK(s[s.slot("consent.visit")].type == FactType::boolean);
  CHECK(s[s.slot("tags")].type == FactType::text_list);
  CHECK(s[s.slot("rfm.segment")].type == FactType::text);
  CHECK(s[s.slot("field.tier")].type == FactType::number);
  CHECK(s[s.slot("stage.customer_lifecycle")].type == FactType::text);
  CHECK(s[s.slot("days_in_stage.customer_lifecycle")].type == FactType::integer);
  CHECK(s[s.slot("meetings_180d")].type == FactType::integer);
  CHECK(s[s.slot("meetings_180d")].description ==
        "count of interaction events in the last 180 days, kind meeting");
  for (const FactDecl& d : s.facts()) CHECK_FALSE(d.description.empty());
  CHECK(standard_fact_schema().size() == 57);

  WindowFact clash;
  clash.name = "purchases_90d";
  const std::vector<WindowFact> clashing = {clash};
  CHECK_ERROR(standard_fact_schema({}, {}, clashing), ErrorCode::conflict,
              "fact: fact 'purchases_90d' is declared twice");
}

TEST_CASE("purchase facts net refunds as of the date and respect window boundaries") {
  const Ledger l;
  const CustomerFacts f = compute_facts(l.columns(), kAsOf);
  REQUIRE(f.customer_id == std::vector<CustomerId>{3, 1, 2, 6});
  CHECK(f.external_id.empty());
  // Customer 1: purchases 1 (100.00, 90 days ago), 2 (50.00 - 20.00 refunded before as_of; the
  // 10.00 refund after as_of is not netted), 3 (25.00 at as_of); 4 is after as_of.
  CHECK(cell(f, 1, "purchase_count") == "3");
  CHECK(cell(f, 1, "net_revenue") == "155");
  CHECK(f.table.numbers(f.table.schema().slot("average_order_value"))[1] ==
        Approx(155.0 / 3).epsilon(1e-15));
  CHECK(cell(f, 1, "days_since_first_purchase") == "90");
  CHECK(cell(f, 1, "days_since_last_purchase") == "0");
  CHECK(cell(f, 1, "purchases_30d") == "1");
  CHECK(cell(f, 1, "purchases_90d") == "2");  // purchase 1, exactly 90 days before, is outside
  CHECK(cell(f, 1, "purchases_180d") == "3");
  CHECK(cell(f, 1, "purchases_365d") == "3");
  CHECK(cell(f, 1, "net_revenue_90d") == "55");
  CHECK(cell(f, 1, "net_revenue_365d") == "155");
  // Customer 2: purchase 5 fully refunded (not a purchase); purchase 6 546 days ago.
  CHECK(cell(f, 2, "purchase_count") == "1");
  CHECK(cell(f, 2, "net_revenue") == "10");
  CHECK(cell(f, 2, "average_order_value") == "10");
  CHECK(cell(f, 2, "days_since_first_purchase") == "546");
  CHECK(cell(f, 2, "days_since_last_purchase") == "546");
  CHECK(cell(f, 2, "purchases_365d") == "0");
  CHECK(cell(f, 2, "net_revenue_365d") == "0");
  // Customer 3: no purchase.
  CHECK(cell(f, 3, "purchase_count") == "0");
  CHECK(cell(f, 3, "net_revenue") == "0");
  CHECK(cell(f, 3, "average_order_value") == "-");
  CHECK(cell(f, 3, "days_since_first_purchase") == "-");
  CHECK(cell(f, 3, "days_since_last_purchase") == "-");
}

TEST_CASE("the same purchase facts one day later net the later refund") {
  const Ledger l;
  const CustomerFacts f = compute_facts(l.columns(), Timestamp::parse("2024-07-16T00:00:00Z"));
  // Purchase 2 is now 50.00 - 30.00; purchase 4 (999.00) counts.
  CHECK(cell(f, 1, "purchase_count") == "4");
  CHECK(cell(f, 1, "net_revenue") == "1144");
}

TEST_CASE("record facts: created, interactions, referrals, surveys, events, consent, tags") {
  const Ledger l;
  const CustomerFacts f = compute_facts(l.columns(), kAsOf);
  CHECK(cell(f, 1, "days_since_created") == "181");
  CHECK(cell(f, 2, "days_since_created") == "547");
  CHECK(cell(f, 6, "days_since_created") == "-");  // record created after as_of
  CHECK(cell(f, 1, "interactions_90d") == "1");
  CHECK(cell(f, 1, "interactions_365d") == "2");
  CHECK(cell(f, 1, "interactions_365d.meeting") == "1");
  CHECK(cell(f, 1, "interactions_365d.call") == "1");
  CHECK(cell(f, 1, "interactions_365d.email") == "0");
  CHECK(cell(f, 1, "interactions_365d.deal") == "1");
  CHECK(cell(f, 1, "interactions_365d.service") == "1");
  CHECK(cell(f, 1, "interactions_365d.care") == "0");
  CHECK(cell(f, 1, "commitments_obtained_365d") == "1");
  CHECK(cell(f, 1, "days_since_last_interaction") == "10");
  CHECK(cell(f, 1, "days_since_last_service_contact") == "121");
  CHECK(cell(f, 6, "interactions_90d") == "1");
  CHECK(cell(f, 6, "days_since_last_interaction") == "1");
  CHECK(cell(f, 2, "interactions_365d") == "0");
  CHECK(cell(f, 2, "days_since_last_interaction") == "-");
  CHECK(cell(f, 2, "days_since_last_service_contact") == "-");
  CHECK(cell(f, 1, "referrals_made") == "1");
  CHECK(cell(f, 2, "referrals_made") == "0");
  CHECK(cell(f, 1, "events_attended") == "2");
  CHECK(cell(f, 1, "events_attended_365d") == "1");
  CHECK(cell(f, 1, "last_nps") == "6");
  CHECK(cell(f, 1, "last_csat") == "4");
  CHECK(cell(f, 2, "last_nps") == "-");
  CHECK(cell(f, 2, "last_csat") == "-");
  CHECK(cell(f, 1, "consent_any") == "true");
  CHECK(cell(f, 1, "consent.email") == "true");
  CHECK(cell(f, 1, "consent.sms") == "false");    // withdrawn
  CHECK(cell(f, 1, "consent.phone") == "false");  // granted after as_of
  CHECK(cell(f, 2, "consent_any") == "false");    // withdrawn
  CHECK(cell(f, 3, "consent_any") == "false");    // no record
  CHECK(cell(f, 1, "consent.email.purposes") == "[marketing,service]");  // sorted
  CHECK(cell(f, 1, "consent.sms.purposes") == "[]");    // withdrawn
  CHECK(cell(f, 1, "consent.phone.purposes") == "[]");  // granted after as_of
  CHECK(cell(f, 2, "consent.email.purposes") == "[]");
  CHECK(cell(f, 1, "tags") == "[vip,b2b]");
  CHECK(cell(f, 2, "tags") == "[]");
  CHECK(cell(f, 1, "field.tier") == "gold");
  CHECK(cell(f, 2, "field.tier") == "-");
  CHECK(cell(f, 2, "field.score") == "12.5");
  CHECK(cell(f, 1, "stage.customer_lifecycle") == "growth");
  CHECK(cell(f, 1, "days_in_stage.customer_lifecycle") == "29");
  CHECK(cell(f, 2, "stage.customer_lifecycle") == "-");  // entered after as_of
  CHECK(cell(f, 3, "stage.customer_lifecycle") == "-");
  CHECK(cell(f, 1, "p_alive") == "-");  // no model handed in
  CHECK(cell(f, 1, "expected_purchases_365d") == "-");
}

TEST_CASE("only the facts asked for are computed, in the order asked") {
  const Ledger l;
  FactOptions o;
  o.facts = {"last_nps", "purchases_90d"};
  const CustomerFacts f = compute_facts(l.columns(), kAsOf, o);
  REQUIRE(f.table.schema().size() == 2);
  CHECK(f.table.schema()[0].name == "last_nps");
  CHECK(render(f.table, 1) == "last_nps=6\npurchases_90d=2\n");
  o.facts = {"purchases_90d", "nope"};
  CHECK_INVALID(compute_facts(l.columns(), kAsOf, o), "facts[1]: unknown fact 'nope'");
}

TEST_CASE("input errors name the column and row") {
  Ledger l;
  l.p_cust[0] = 99;
  CHECK_INVALID(compute_facts(l.columns(), kAsOf), "purchase_customer_id[0]: no customer 99");
  FactOptions o;
  o.ignore_unknown_customers = true;
  CHECK(cell(compute_facts(l.columns(), kAsOf, o), 1, "purchase_count") == "2");
  Ledger dup;
  dup.customer_id[1] = 3;
  CHECK_INVALID(compute_facts(dup.columns(), kAsOf), "customer_id[1]: customer 3 is listed twice");
  Ledger refund;
  refund.r_amount[2] = 4001;
  CHECK_INVALID(compute_facts(refund.columns(), kAsOf),
                "refund_amount_minor[2]: the refunds of purchase 5 exceed its amount");
  Ledger unknown;
  unknown.r_of[0] = 77;
  CHECK_INVALID(compute_facts(unknown.columns(), kAsOf), "refund_purchase_id[0]: no purchase 77");
  Ledger length;
  length.i_kind.pop_back();
  CHECK_INVALID(compute_facts(length.columns(), kAsOf),
                "interaction_kind: length 4 differs from interaction_customer_id (5)");
  FactOptions window_only;  // the same check when only a declared window reads interactions
  window_only.windows = window_facts_from_json_text(
      R"([{"name": "calls_30d", "event": "interaction", "kind": "call", "window_days": 30}])");
  window_only.facts = {"calls_30d"};
  CHECK_INVALID(compute_facts(length.columns(), kAsOf, window_only),
                "interaction_kind: length 4 differs from interaction_customer_id (5)");
  Ledger surveys;
  surveys.s_at.pop_back();
  FactOptions survey_window;
  survey_window.windows = window_facts_from_json_text(
      R"([{"name": "surveys_30d", "event": "survey_response", "window_days": 30}])");
  survey_window.facts = {"surveys_30d"};
  CHECK_INVALID(compute_facts(surveys.columns(), kAsOf, survey_window),
                "survey_at_micros: length 2 differs from survey_customer_id (3)");
  Ledger code;
  code.i_purpose[1] = 5;
  CHECK_INVALID(compute_facts(code.columns(), kAsOf), "interaction_purpose[1]: unknown code 5");
}

TEST_CASE("declared windows from JSON") {
  const std::vector<WindowFact> w = window_facts_from_json_text(R"([
    {"name": "meetings_180d", "event": "interaction", "kind": "meeting", "window_days": 180,
     "aggregate": "count"},
    {"name": "spend_90d", "event": "purchase", "window_days": 90, "aggregate": "sum"},
    {"name": "aov_365d", "event": "purchase", "window_days": 365, "aggregate": "mean"},
    {"name": "purchase_days_365d", "event": "purchase", "window_days": 365,
     "aggregate": "distinct_days"},
    {"name": "refunded_90d", "event": "refund", "window_days": 90, "aggregate": "sum"},
    {"name": "deal_commitments_365d", "event": "interaction", "purpose": "deal",
     "commitment_obtained": true, "window_days": 365},
    {"name": "surveys_61d", "event": "survey_response", "window_days": 61},
    {"name": "referrals_200d", "event": "referral", "window_days": 200},
    {"name": "events_600d", "event": "event_participation", "window_days": 600}
  ])");
  REQUIRE(w.size() == 9);
  CHECK(w[0].kind == InteractionKind::meeting);
  CHECK(to_json_text(w[0]) ==
        R"({"aggregate":"count","event":"interaction","kind":"meeting","name":"meetings_180d","window_days":180})");
  CHECK(to_json_text(window_fact_from_json_text(to_json_text(w[5]))) == to_json_text(w[5]));
  const Ledger l;
  FactOptions o;
  o.windows = w;
  const CustomerFacts f = compute_facts(l.columns(), kAsOf, o);
  CHECK(cell(f, 1, "meetings_180d") == "1");
  CHECK(cell(f, 1, "spend_90d") == "55");
  CHECK(f.table.numbers(f.table.schema().slot("aov_365d"))[1] == Approx(155.0 / 3).epsilon(1e-15));
  CHECK(cell(f, 3, "aov_365d") == "-");
  CHECK(cell(f, 1, "purchase_days_365d") == "2");  // 2024-04-01 (twice) and 2024-06-30
  CHECK(cell(f, 1, "refunded_90d") == "20");
  CHECK(cell(f, 2, "refunded_90d") == "40");
  CHECK(cell(f, 1, "deal_commitments_365d") == "1");
  CHECK(cell(f, 1, "surveys_61d") == "2");
  CHECK(cell(f, 1, "referrals_200d") == "1");
  CHECK(cell(f, 1, "events_600d") == "2");
}

TEST_CASE("window declarations are refused with their JSON path") {
  CHECK_INVALID(window_facts_from_json_text(
                    R"([{"name": "a", "event": "purchase", "window_days": 30},
                        {"name": "b", "event": "purchase", "window_days": 0}])"),
                "windows[1].window_days: must be an integer in 1..36500, got 0");
  CHECK_INVALID(window_facts_from_json_text(
                    R"([{"name": "a", "event": "purchase", "kind": "call", "window_days": 30}])"),
                "windows[0].kind: only an interaction window takes a kind");
  CHECK_INVALID(window_facts_from_json_text(
                    R"([{"name": "a", "event": "interaction", "window_days": 30,
                         "aggregate": "sum"}])"),
                "windows[0].aggregate: sum needs event purchase or refund, not interaction");
  CHECK_INVALID(window_facts_from_json_text(
                    R"([{"name": "a", "event": "purchase", "window_days": 30},
                        {"name": "a", "event": "refund", "window_days": 30}])"),
                "windows[1].name: 'a' is declared twice");
  CHECK_INVALID(window_fact_from_json_text(R"({"name": "a", "window_days": 30})"),
                "window.event: required");
  CHECK_INVALID(window_fact_from_json_text(
                    R"({"name": "a", "event": "purchase", "window_days": 30, "colour": 1})"),
                "window.colour: unknown member (name, event, window_days, aggregate, kind, "
                "purpose, commitment_obtained)");
  CHECK_INVALID(window_fact_from_json_text(R"({"name": "a", "event": "sale", "window_days": 30})"),
                "window.event: unknown event 'sale' (one of purchase, refund, interaction, "
                "referral, survey_response, event_participation)");
  CHECK_INVALID(window_fact_from_json_text(
                    R"({"name": "a", "event": "purchase", "window_days": 1.5})"),
                "window.window_days: must be an integer in 1..36500");
  CHECK_INVALID_PREFIX(window_fact_from_json_text(
                           R"({"name": "a", "event": "interaction", "kind": "fax",
                               "window_days": 3})"),
                       "window.kind: ");
  CHECK_INVALID_PREFIX(window_fact_from_json_text(
                           R"({"name": "bad..name", "event": "purchase", "window_days": 3})"),
                       "window.name: invalid fact name");
  CHECK_INVALID(window_facts_from_json_text(R"({"name": "a"})"),
                "windows: must be an array of window declarations");
}

// ---- many customers: threads and sparse ids ------------------------------------------------

namespace {

// Cell by cell equality of two tables of one schema; the first difference as text, or "".
std::string difference(const FactTable& a, const FactTable& b) {
  if (!(a.schema() == b.schema()) || a.rows() != b.rows()) return "shape";
  for (std::size_t s = 0; s < a.schema().size(); ++s) {
    for (std::size_t r = 0; r < a.rows(); ++r) {
      if (cell(a, r, s) != cell(b, r, s)) {
        return a.schema()[s].name + " row " + std::to_string(r) + ": " + cell(a, r, s) +
               " vs " + cell(b, r, s);
      }
    }
  }
  return "";
}

}  // namespace

TEST_CASE("results do not depend on the thread count or on how sparse the ids are") {
  // 30,000 customers with 150,000 purchases and 60,000 interactions in a fixed pseudo-random
  // order: above the 20,000-row threshold, so the passes run on worker threads.
  const std::size_t n = 30000;
  std::uint64_t state = 12345;
  auto next = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 33;
  };
  std::vector<CustomerId> ids(n), sparse(n);
  std::vector<std::int64_t> created(n);
  const std::int64_t as_of = t("2024-06-30T12:00:00Z");
  const std::int64_t day = 86'400'000'000LL;
  for (std::size_t i = 0; i < n; ++i) {
    ids[i] = static_cast<CustomerId>(i + 1);
    sparse[i] = static_cast<CustomerId>(i + 1) * 1'000'003 + 7;
    created[i] = as_of - static_cast<std::int64_t>(next() % 900) * day;
  }
  std::vector<EventId> p_id;
  std::vector<CustomerId> p_cust, p_cust_sparse;
  std::vector<std::int64_t> p_at, p_amount;
  for (std::size_t k = 0; k < 150000; ++k) {
    const std::size_t c = next() % n;
    p_id.push_back(static_cast<EventId>(k + 1));
    p_cust.push_back(ids[c]);
    p_cust_sparse.push_back(sparse[c]);
    p_at.push_back(as_of - static_cast<std::int64_t>(next() % (800 * 24)) * (day / 24));
    p_amount.push_back(static_cast<std::int64_t>(next() % 20000));
  }
  std::vector<EventId> r_of;
  std::vector<std::int64_t> r_at, r_amount;
  for (std::size_t k = 0; k < 150000; k += 7) {
    r_of.push_back(p_id[k]);
    r_at.push_back(p_at[k] + static_cast<std::int64_t>(next() % 30) * day);
    r_amount.push_back(p_amount[k]);  // full refunds, some after as_of
  }
  std::vector<CustomerId> i_cust, i_cust_sparse;
  std::vector<std::int64_t> i_at;
  std::vector<std::uint8_t> i_kind, i_purpose, i_obtained;
  for (std::size_t k = 0; k < 60000; ++k) {
    const std::size_t c = next() % n;
    i_cust.push_back(ids[c]);
    i_cust_sparse.push_back(sparse[c]);
    i_at.push_back(as_of - static_cast<std::int64_t>(next() % 500) * day + 3600'000'000LL);
    i_kind.push_back(static_cast<std::uint8_t>(next() % 10));
    i_purpose.push_back(static_cast<std::uint8_t>(next() % 5));
    i_obtained.push_back(static_cast<std::uint8_t>(next() % 2));
  }
  FactColumns c;
  c.customer_id = ids;
  c.created_at_micros = created;
  c.purchase_event_id = p_id;
  c.purchase_customer_id = p_cust;
  c.purchase_at_micros = p_at;
  c.purchase_amount_minor = p_amount;
  c.refund_purchase_id = r_of;
  c.refund_at_micros = r_at;
  c.refund_amount_minor = r_amount;
  c.interaction_customer_id = i_cust;
  c.interaction_at_micros = i_at;
  c.interaction_kind = i_kind;
  c.interaction_purpose = i_purpose;
  c.interaction_commitment_obtained = i_obtained;
  FactOptions one, two;
  one.threads = 1;
  two.threads = 2;
  one.windows = two.windows = window_facts_from_json_text(
      R"([{"name": "buy_days_60d", "event": "purchase", "window_days": 60,
           "aggregate": "distinct_days"}])");
  const CustomerFacts a = compute_facts(c, Timestamp(as_of), one);
  const CustomerFacts b = compute_facts(c, Timestamp(as_of), two);
  REQUIRE(a.size() == n);
  CHECK(difference(a.table, b.table).empty());
  FactColumns d = c;
  d.customer_id = sparse;
  d.purchase_customer_id = p_cust_sparse;
  d.interaction_customer_id = i_cust_sparse;
  const CustomerFacts h = compute_facts(d, Timestamp(as_of), two);
  CHECK(h.customer_id == sparse);
  CHECK(difference(a.table, h.table).empty());
  // Totals a reader can check against the columns: purchases not fully refunded as of the date.
  std::int64_t counted = 0;
  for (std::int64_t v : a.table.integers(a.table.schema().slot("purchase_count"))) counted += v;
  std::int64_t expected = 0;
  for (std::size_t k = 0; k < p_at.size(); ++k) {
    const bool refunded_by_then = k % 7 == 0 && r_at[k / 7] <= as_of && p_amount[k] > 0;
    if (p_at[k] <= as_of && !refunded_by_then) ++expected;
  }
  CHECK(counted == expected);
}

// ---- CDNOW: RFM and P(alive) against the value layer ----------------------------------------

namespace {

struct CdnowColumns {
  std::vector<CustomerId> ids;
  std::vector<std::int64_t> cust, time, minor;
};

const CdnowColumns& cdnow() {
  static const CdnowColumns c = [] {
    const crmkit::test::CdnowLog log = crmkit::test::read_cdnow_log();
    CdnowColumns out;
    out.cust = log.customer;
    out.time = log.time;
    for (const std::string& d : log.dollars) out.minor.push_back(m(d.c_str()).minor_units_i64());
    std::map<std::int64_t, int> seen;
    for (std::int64_t id : log.customer) seen[id] = 1;
    for (const auto& [id, _] : seen) out.ids.push_back(id);
    return out;
  }();
  return c;
}

FactColumns cdnow_view() {
  FactColumns f;
  f.customer_id = cdnow().ids;
  f.purchase_customer_id = cdnow().cust;
  f.purchase_at_micros = cdnow().time;
  f.purchase_amount_minor = cdnow().minor;
  return f;
}

}  // namespace

TEST_CASE("RFM facts on the CDNOW sample equal the value layer's RFM") {
  const Timestamp as_of = Timestamp::parse("1997-06-30T00:00:00Z");
  FactOptions o;
  o.facts = {"rfm.r", "rfm.f", "rfm.m", "rfm.segment"};
  const CustomerFacts f = compute_facts(cdnow_view(), as_of, o);
  REQUIRE(f.size() == 2357);  // every customer (no created_at: all are rows)

  SummaryOptions so;
  so.observation_period_end = as_of;
  so.include_first_transaction = true;
  so.drop_customers_after_end = true;
  const RfmSummary s =
      summary_data_from_transaction_data(cdnow().cust, cdnow().time, cdnow().minor, 2, so);
  std::vector<double> rv(s.size()), fr(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    rv[i] = s.T[i] - s.recency[i];
    fr[i] = static_cast<double>(s.frequency[i]);
  }
  const RfmScores sc = rfm_scores(rv, fr, s.monetary_value);
  // Customers first buying after 1997-06-30 have no scores; CDNOW's cohort bought by 1997-03-31.
  REQUIRE(s.size() == 2357);
  std::size_t checked = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    REQUIRE(f.customer_id[i] == s.customer_id[i]);  // both ascend
    CHECK(f.table.integers(0)[i] == sc.r[i]);
    CHECK(f.table.integers(1)[i] == sc.f[i]);
    CHECK(f.table.integers(2)[i] == sc.m[i]);
    CHECK(f.table.texts(3)[i] == sc.segment[i]);
    ++checked;
  }
  CHECK(checked == 2357);
}

TEST_CASE("P(alive) from an MBG/NBD fit equals the model's own prediction") {
  const Timestamp as_of = Timestamp::parse("1997-09-30T00:00:00Z");
  SummaryOptions so;
  so.multiplier = 7;
  so.observation_period_end = as_of;
  const RfmSummary s = summary_data_from_transaction_data(cdnow().cust, cdnow().time, so);
  const std::vector<double> x(s.frequency.begin(), s.frequency.end());
  FitOptions fo;
  fo.standard_errors = false;
  const ModifiedBetaGeoModel mbg = ModifiedBetaGeoModel::fit(x, s.recency, s.T, {}, fo);
  const std::vector<double> alive = mbg.conditional_probability_alive(x, s.recency, s.T);
  const std::vector<double> expected =
      mbg.conditional_expected_number_of_purchases_up_to_time(365.0 / 7, x, s.recency, s.T);

  FactOptions o;
  o.facts = {"p_alive", "expected_purchases_365d"};
  o.model.model = mbg;
  o.model.unit = TimeUnit::day;
  o.model.multiplier = 7;
  CHECK(o.model.horizon_365d() == 365.0 / 7);
  const CustomerFacts f = compute_facts(cdnow_view(), as_of, o);
  REQUIRE(f.size() == s.size());
  bool one_time_buyer_below_one = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    REQUIRE(f.customer_id[i] == s.customer_id[i]);
    REQUIRE(f.table.is_present(i, 0));
    CHECK(f.table.numbers(0)[i] == alive[i]);
    CHECK(f.table.numbers(1)[i] == expected[i]);
    if (x[i] == 0 && alive[i] < 1) one_time_buyer_below_one = true;
  }
  CHECK(one_time_buyer_below_one);  // MBG/NBD, unlike BG/NBD, does not give them 1
}

// ---- from a store -------------------------------------------------------------------------

namespace {

Event purchase(CustomerId c, const char* amount, const char* at) {
  return test::purchase_event(c, amount, at);
}

Event refund(CustomerId c, EventId of, const char* amount, const char* at) {
  return test::refund_event(c, of, amount, at);
}

Event interaction(CustomerId c, InteractionKind kind, ContactPurpose purpose, const char* at) {
  Event e;
  e.customer = c;
  e.at = Timestamp::parse(at);
  Interaction i;
  i.kind = kind;
  i.purpose = purpose;
  e.payload = i;
  return e;
}

}  // namespace

TEST_CASE("facts from a store: every customer, and one row equal to its row") {
  Store store = Store::open(":memory:", usd());
  FieldDef tier;
  tier.name = "tier";
  tier.type = FieldType::text;
  store.declare_field(tier);
  Customer a = person("a");
  a.tags = {"vip"};
  a.custom["tier"] = std::string("gold");
  a = store.create_customer(a);
  const Customer b = store.create_customer(person("b"));
  const Customer gone = store.create_customer(person("gone"));
  Consent email;
  email.channel = Channel::email;
  email.purpose = "marketing";
  email.at = Timestamp::parse("2030-01-01T00:00:00Z");
  email.source = "web-form";
  store.set_consent(a.id, email);
  // Purchases of a: 100.00 refunded 30.00 before as_of and 20.00 after; 40.00 later.
  const Event p1 = store.append_event(purchase(a.id, "100.00", "2030-03-01T00:00:00Z"));
  store.append_event(refund(a.id, p1.id, "30.00", "2030-04-01T00:00:00Z"));
  store.append_event(refund(a.id, p1.id, "20.00", "2030-08-01T00:00:00Z"));
  store.append_event(purchase(a.id, "40.00", "2030-06-01T00:00:00Z"));
  store.append_event(interaction(a.id, InteractionKind::visit, ContactPurpose::service,
                                 "2030-06-20T00:00:00Z"));
  // b: one purchase, fully refunded.
  const Event p2 = store.append_event(purchase(b.id, "15.00", "2030-05-01T00:00:00Z"));
  store.append_event(refund(b.id, p2.id, "15.00", "2030-05-02T00:00:00Z"));
  store.append_event(purchase(gone.id, "1.00", "2030-05-01T00:00:00Z"));
  store.delete_customer(gone.id);

  const Timestamp as_of = Timestamp::parse("2030-06-30T12:00:00Z");
  const CustomerFacts all = facts_as_of(store, as_of);
  REQUIRE(all.customer_id == std::vector<CustomerId>{a.id, b.id});  // soft-deleted left out
  CHECK(all.external_id == std::vector<std::string>{"a", "b"});
  CHECK(cell(all, a.id, "purchase_count") == "2");
  CHECK(cell(all, a.id, "net_revenue") == "110");  // 100 - 30 + 40; the later 20 not netted
  CHECK(cell(all, a.id, "days_since_last_service_contact") == "10");
  CHECK(cell(all, a.id, "interactions_365d.visit") == "1");
  CHECK(cell(all, a.id, "consent.email") == "true");
  CHECK(cell(all, a.id, "consent.email.purposes") == "[marketing]");
  CHECK(cell(all, a.id, "tags") == "[vip]");
  CHECK(cell(all, a.id, "field.tier") == "gold");
  CHECK(cell(all, b.id, "purchase_count") == "0");  // fully refunded
  CHECK(cell(all, b.id, "net_revenue") == "0");
  CHECK(cell(all, b.id, "days_since_last_purchase") == "-");
  CHECK(cell(all, a.id, "rfm.segment") != "-");
  CHECK(cell(all, b.id, "rfm.r") == "-");
  const auto& created = store.customer_columns().created_at_micros;
  CHECK(cell(all, a.id, "days_since_created") ==
        std::to_string((as_of.micros() - created[0]) / 86'400'000'000LL));

  for (std::size_t r = 0; r < all.size(); ++r) {
    const CustomerFacts one = customer_facts(store, all.customer_id[r], as_of);
    REQUIRE(one.size() == 1);
    CHECK(one.external_id == std::vector<std::string>{all.external_id[r]});
    CHECK(render(one.table, 0) == render(all.table, r));
  }
  CHECK_ERROR(customer_facts(store, 999, as_of), ErrorCode::not_found,
              "customer: no customer 999");
  CHECK_INVALID(customer_facts(store, gone.id, as_of), "customer: 3 is soft-deleted");
  CHECK_INVALID(customer_facts(store, b.id, Timestamp::parse("2001-01-01T00:00:00Z")),
                "customer: 2 does not exist as of 2001-01-01T00:00:00Z");
}

TEST_CASE("the store's fact columns") {
  Store store = Store::open(":memory:", usd());
  const Customer a = store.create_customer(person("a"));
  const Event p = store.append_event(purchase(a.id, "10.00", "2030-01-01T00:00:00Z"));
  store.append_event(refund(a.id, p.id, "4.00", "2030-01-02T00:00:00Z"));
  Event i = interaction(a.id, InteractionKind::meeting, ContactPurpose::deal, "2030-01-03T00:00:00Z");
  std::get<Interaction>(i.payload).commitment_asked = "trial";
  std::get<Interaction>(i.payload).commitment_obtained = true;
  store.append_event(i);
  Event sv;
  sv.customer = a.id;
  sv.at = Timestamp::parse("2030-01-04T00:00:00Z");
  SurveyResponse r;
  r.csat = 5;
  sv.payload = r;
  store.append_event(sv);
  Event ev;
  ev.customer = a.id;
  ev.at = Timestamp::parse("2030-01-05T00:00:00Z");
  ev.payload = EventParticipation{"fair", "attendee"};
  store.append_event(ev);

  const RefundColumns rc = store.refund_columns();
  CHECK(rc.event_id == std::vector<EventId>{2});
  CHECK(rc.purchase_id == std::vector<EventId>{1});
  CHECK(rc.amount_minor == std::vector<std::int64_t>{400});
  CHECK(rc.at_micros == std::vector<std::int64_t>{t("2030-01-02T00:00:00Z")});
  const InteractionColumns ic = store.interaction_columns();
  CHECK(ic.kind == std::vector<std::uint8_t>{8});
  CHECK(ic.purpose == std::vector<std::uint8_t>{2});
  CHECK(ic.commitment_asked == std::vector<std::uint8_t>{1});
  CHECK(ic.commitment_obtained == std::vector<std::uint8_t>{1});
  const SurveyColumns sc = store.survey_columns();
  CHECK(sc.nps == std::vector<std::int8_t>{-1});
  CHECK(sc.csat == std::vector<std::int8_t>{5});
  CHECK(store.participation_columns().event_id == std::vector<EventId>{5});
  CHECK(store.customer_columns().external_id == std::vector<std::string>{"a"});
  CHECK(store.consent_columns().customer_id.empty());
  CHECK(store.tag_columns().tag.empty());
  CHECK(store.field_columns().empty());
  ColumnRequest one;
  one.customer = 42;
  CHECK_ERROR(store.columns(one), ErrorCode::not_found, "customer: no customer 42");
}
