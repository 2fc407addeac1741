// Follow-up and campaigns on a Store (crmkit/analytics/engage.hpp), and the property test over
// random consent histories (pure layer).
#include <catch2/catch.hpp>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "crmkit/crmkit.hpp"
#include "support.hpp"

using namespace crmkit;
using namespace crmkit::test;

namespace {

constexpr std::int64_t kDay = 86'400'000'000LL;

Consent consent(Channel ch, const char* purpose, ConsentStatus st, Timestamp at) {
  Consent k;
  k.channel = ch;
  k.purpose = purpose;
  k.status = st;
  k.at = at;
  k.source = "test";
  return k;
}

Event contact(CustomerId c, Timestamp at) {
  Event e;
  e.customer = c;
  e.at = at;
  Interaction in;
  in.kind = InteractionKind::call;
  in.purpose = ContactPurpose::service;
  e.payload = in;
  return e;
}

}  // namespace

TEST_CASE("store due list: default yearly cadence, consent, stage playbook action, contact") {
  Store store = Store::open(":memory:", usd());
  const Timestamp t0 = Timestamp::now();
  const Timestamp before = Timestamp::from_micros(t0.micros() - kDay);
  Customer a = person("a");
  a.preferred_channel = Channel::sms;
  a.consents = {consent(Channel::email, "service", ConsentStatus::granted, before),
                consent(Channel::sms, "service", ConsentStatus::granted, before)};
  Customer b = person("b");
  b.consents = {consent(Channel::email, "marketing", ConsentStatus::granted, before)};
  Customer c = person("c");
  c.consents = {consent(Channel::phone, "service", ConsentStatus::granted, before)};
  c.max_contacts_per_30_days = 0;
  const CustomerId ia = store.create_customer(a).id;
  const CustomerId ib = store.create_customer(b).id;
  const CustomerId ic = store.create_customer(c).id;
  Customer gone = person("gone");
  gone.consents = a.consents;
  store.delete_customer(store.create_customer(gone).id);

  const Timestamp as_of = Timestamp::from_micros(t0.micros() + 400 * kDay + kDay / 24);
  const DueList d = due_list(store, as_of);
  REQUIRE(d.due.size() == 1);
  CHECK(d.due[0].customer == ia);
  CHECK(d.due[0].channel == Channel::sms);
  CHECK(d.due[0].status == DueStatus::overdue);
  CHECK(d.due[0].days_overdue == 35);
  CHECK(d.due[0].rule == "default");
  CHECK(d.due[0].action == "screen leads: quality over quantity");  // prospect's playbook
  REQUIRE(d.unreachable.size() == 1);
  CHECK(d.unreachable[0].customer == ib);
  CHECK(!d.unreachable[0].channel);
  REQUIRE(d.at_limit.size() == 1);
  CHECK(d.at_limit[0].customer == ic);

  // A rule over a standard fact, a cadence of 30 days and its own action.
  const FollowUpPolicy p = follow_up_policy_from_json_text(
      R"({"rules": [{"name": "prospects", "when": {"==": [{"var": "stage.customer_lifecycle"},
          "prospect"]}, "every_days": 30, "action": "ask for a meeting"}]})");
  const DueList dp = due_list(store, Timestamp::from_micros(t0.micros() + 31 * kDay), p);
  REQUIRE(dp.due.size() == 1);
  CHECK(dp.due[0].rule == "prospects");
  CHECK(dp.due[0].action == "ask for a meeting");

  // Recording a contact takes the customer off the list.
  store.append_event(contact(ia, Timestamp::from_micros(t0.micros() + 399 * kDay)));
  const DueList after = due_list(store, as_of);
  CHECK(after.due.empty());
  CHECK(after.size() == 2);

  // Errors name the rule's path.
  FollowUpPolicy bad;
  bad.rules.push_back({"x", R"({"var": "no_such_fact"})", 10, "service", ""});
  const Error e = catch_error([&] { due_list(store, as_of, bad); });
  CHECK(std::string(e.what()).rfind("policy.rules[0].when", 0) == 0);
}

TEST_CASE("store campaigns: audience, touches need consent, responses, report") {
  Store store = Store::open(":memory:", usd());
  const Timestamp t0 = Timestamp::now();
  const Timestamp before = Timestamp::from_micros(t0.micros() - kDay);
  std::vector<CustomerId> ids;
  for (int i = 0; i < 4; ++i) {
    Customer cu = person("c" + std::to_string(i));
    if (i != 3) cu.consents = {consent(Channel::sms, "marketing", ConsentStatus::granted, before)};
    ids.push_back(store.create_customer(cu).id);
  }
  // c1 buys once, c2 three times.
  const auto at = [&](int d) { return Timestamp::from_micros(t0.micros() + d * kDay).to_string(); };
  store.append_event(purchase_event(ids[1], "10.00", at(1).c_str()));
  for (int k = 0; k < 3; ++k) store.append_event(purchase_event(ids[2], "5.00", at(2 + k).c_str()));
  const Timestamp when = Timestamp::from_micros(t0.micros() + 10 * kDay);

  const Audience all = campaign_audience(store, when);
  REQUIRE(all.members.size() == 3);
  CHECK(all.members[0].customer_class == CustomerClass::prospect);
  CHECK(all.members[1].customer_class == CustomerClass::first_time);
  CHECK(all.members[2].customer_class == CustomerClass::repeat);
  CHECK(all.unreachable == std::vector<CustomerId>{ids[3]});
  AudienceSelection sel;
  sel.rule = R"({">=": [{"var": "purchase_count"}, 1]})";
  const Audience buyers = campaign_audience(store, when, sel);
  REQUIRE(buyers.members.size() == 2);

  // A touch without consent is refused, naming the customer; nothing is written.
  const std::size_t events_before = store.count_events();
  std::vector<CampaignTouch> touches{{ids[0], Channel::sms}, {ids[3], Channel::sms}};
  const Error e = catch_error([&] { record_campaign_touches(store, "spring", touches, when); });
  CHECK(e.code() == ErrorCode::consent_required);
  CHECK(std::string(e.what()) == "touches[1]: customer " + std::to_string(ids[3]) +
                                     " ('c3') has no granted consent for sms / marketing");
  CHECK(store.count_events() == events_before);

  const std::vector<EventId> touched = record_campaign_touches(store, "spring", all, when);
  CHECK(touched.size() == 3);
  const Event ev = store.get_event(touched[0]);
  CHECK(ev.source == "campaign:spring");
  CHECK(std::get<Interaction>(ev.payload).kind == InteractionKind::message);
  // Recording again is idempotent.
  CHECK(record_campaign_touches(store, "spring", all, when) == touched);

  const std::vector<CustomerId> responders{ids[2]};
  record_campaign_responses(store, "spring", responders, when);
  const std::vector<CustomerId> stranger{ids[3]};
  CHECK(std::string(catch_error([&] {
          record_campaign_responses(store, "spring", stranger, when);
        }).what()) == "customers[0]: customer " + std::to_string(ids[3]) +
                          " was not touched by campaign 'spring'");

  const std::vector<CampaignReportRow> r = campaign_report(store, "spring", m("0.08"));
  REQUIRE(r.size() == 4);
  CHECK(r[2].group == "repeat");
  CHECK(r[2].touches == 1);
  CHECK(r[2].responses == 1);
  CHECK(r[2].cost_per_response == m("0.08"));
  CHECK(r[3].group == "all");
  CHECK(r[3].touches == 3);
  CHECK(r[3].responses == 1);
  CHECK(r[3].response_rate == Approx(1.0 / 3));
  CHECK(r[3].expected_response_rate == Approx((0.06 + 0.15 + 0.50) / 3));
  CHECK(r[3].cost == m("0.24"));
  CHECK(r[3].cost_per_response == m("0.24"));
  CHECK(!r[0].cost_per_response);
}

TEST_CASE("store campaigns: customers at their contact limit are never members nor touched") {
  Store store = Store::open(":memory:", usd());
  const Timestamp t0 = Timestamp::now();
  const auto day = [&](int d) { return Timestamp::from_micros(t0.micros() + d * kDay); };
  const Timestamp before = day(-1);
  const Timestamp when = day(60);
  std::vector<CustomerId> ids;
  const std::vector<int> limits{2, 2, 1, 0, -1};
  for (int i = 0; i < 5; ++i) {
    Customer cu = person("c" + std::to_string(i));
    cu.consents = {consent(Channel::sms, "marketing", ConsentStatus::granted, before)};
    const int limit = limits[static_cast<std::size_t>(i)];
    if (limit >= 0) cu.max_contacts_per_30_days = limit;
    ids.push_back(store.create_customer(cu).id);
  }
  // c0: two contacts in the window (at its limit of 2); c1: one (below 2); c2: one 31 days
  // before (outside the window); c3: limit 0; c4: no limit.
  store.append_event(contact(ids[0], day(40)));
  store.append_event(contact(ids[0], day(55)));
  store.append_event(contact(ids[1], day(55)));
  store.append_event(contact(ids[2], day(29)));

  const Audience a = campaign_audience(store, when);
  REQUIRE(a.members.size() == 3);
  CHECK(a.members[0].customer == ids[1]);
  CHECK(a.members[1].customer == ids[2]);
  CHECK(a.members[2].customer == ids[4]);
  CHECK(a.unreachable.empty());
  REQUIRE(a.at_limit.size() == 2);
  CHECK(a.at_limit[0].customer == ids[0]);
  CHECK(a.at_limit[0].contacts_30d == 2);
  CHECK(a.at_limit[0].max_contacts_per_30_days == 2);
  CHECK(a.at_limit[0].next_contact_at == day(70));
  CHECK(a.at_limit[1].customer == ids[3]);
  CHECK(a.at_limit[1].contacts_30d == 0);
  CHECK(!a.at_limit[1].next_contact_at);

  const std::vector<EventId> summer = record_campaign_touches(store, "summer", a, when);
  CHECK(summer.size() == 3);
  // A repeat of the same campaign is no new contact: c1 (now at 2 of 2) passes, same events.
  CHECK(record_campaign_touches(store, "summer", a, when) == summer);

  // A touch of a customer at its limit is refused with conflict, naming it; nothing is written.
  const std::size_t events_before = store.count_events();
  std::vector<CampaignTouch> touches{{ids[4], Channel::sms}, {ids[0], Channel::sms}};
  const Error e = catch_error([&] { record_campaign_touches(store, "autumn", touches, when); });
  CHECK(e.code() == ErrorCode::conflict);
  CHECK(std::string(e.what()) == "touches[1]: customer " + std::to_string(ids[0]) +
                                     " ('c0') is at its contact limit: max_contacts_per_30_days 2, "
                                     "contacts in the 30 days up to " + when.to_string() +
                                     ": 2");
  CHECK(store.count_events() == events_before);
  // The summer touch counts: c1 has reached its limit of 2 for another campaign, c2 its 1.
  for (const std::size_t k : {1, 2}) {
    const std::vector<CampaignTouch> again{{ids[k], Channel::sms}};
    const Error e1 = catch_error([&] { record_campaign_touches(store, "autumn", again, when); });
    CHECK(e1.code() == ErrorCode::conflict);
  }
  CHECK(store.count_events() == events_before);
  // Limit 0: never.
  const std::vector<CampaignTouch> never{{ids[3], Channel::sms}};
  CHECK(catch_error([&] { record_campaign_touches(store, "autumn", never, day(400)); }).code() ==
        ErrorCode::conflict);
  // c0 may be touched again at its next_contact_at (its day-40 contact has left the window),
  // not a microsecond before.
  const std::vector<CampaignTouch> c0{{ids[0], Channel::sms}};
  CHECK(catch_error([&] {
          record_campaign_touches(store, "autumn", c0,
                                  Timestamp::from_micros(day(70).micros() - 1));
        }).code() == ErrorCode::conflict);
  CHECK(record_campaign_touches(store, "autumn", c0, day(70)).size() == 1);
  CHECK(store.count_events() == events_before + 1);
}

// ---- property test over random consent histories ----------------------------------------------

TEST_CASE("property: no channel without a granted consent; everyone past cadence is listed") {
  const Channel channels[] = {Channel::email, Channel::phone, Channel::sms,
                              Channel::im,    Channel::post,  Channel::visit};
  const char* purposes[] = {"service", "marketing", "care"};
  for (std::uint32_t seed = 1; seed <= 300; ++seed) {
    std::mt19937 rng(seed);
    const auto uni = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    const std::int64_t base = Timestamp::parse("2024-01-01T00:00:00Z").micros();
    const int n = uni(1, 30);
    std::vector<CustomerId> id;
    std::vector<std::int64_t> created;
    std::vector<std::int8_t> preferred;
    std::vector<std::int32_t> limit;
    for (int i = 0; i < n; ++i) {
      id.push_back(1000 - i * 7);  // not ascending: ordering must not depend on row order
      created.push_back(base + uni(-800, 100) * kDay);
      preferred.push_back(static_cast<std::int8_t>(uni(-1, 5)));
      limit.push_back(uni(0, 3) == 0 ? -1 : uni(0, 3));
    }
    std::vector<CustomerId> k_id;
    std::vector<std::uint8_t> k_ch, k_gr;
    std::vector<std::string> k_pu;
    std::vector<std::int64_t> k_at;
    const int consents = uni(0, 6 * n);
    for (int k = 0; k < consents; ++k) {
      k_id.push_back(id[uni(0, n - 1)]);
      k_ch.push_back(static_cast<std::uint8_t>(uni(0, 5)));
      k_pu.push_back(purposes[uni(0, 2)]);
      k_gr.push_back(static_cast<std::uint8_t>(uni(0, 1)));
      k_at.push_back(base + uni(-900, 300) * kDay + uni(0, 2) * 1000);  // some exact ties
    }
    std::vector<CustomerId> i_id;
    std::vector<std::int64_t> i_at;
    const int contacts = uni(0, 4 * n);
    for (int k = 0; k < contacts; ++k) {
      i_id.push_back(id[uni(0, n - 1)]);
      i_at.push_back(base + uni(-700, 300) * kDay);
    }
    ContactColumns c;
    c.customer_id = id;
    c.created_at_micros = created;
    c.preferred_channel = preferred;
    c.max_contacts_per_30_days = limit;
    c.consent_customer_id = k_id;
    c.consent_channel = k_ch;
    c.consent_purpose = k_pu;
    c.consent_granted = k_gr;
    c.consent_at_micros = k_at;
    c.interaction_customer_id = i_id;
    c.interaction_at_micros = i_at;
    FactSchema schema;
    schema.add("gold", FactType::boolean);
    FactTable facts(schema, static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) facts.set_boolean(static_cast<std::size_t>(i), 0, uni(0, 1) == 1);
    c.facts = &facts;
    FollowUpPolicy policy;
    policy.rules.push_back({"gold", R"({"var": "gold"})", uni(1, 90), purposes[uni(0, 2)], ""});
    policy.default_every_days = uni(30, 400);
    policy.default_purpose = purposes[uni(0, 2)];
    const Timestamp as_of = Timestamp::from_micros(base + uni(0, 200) * kDay);

    // The oracle: the consent of (customer, channel, purpose) as of the date, by brute force.
    const auto granted = [&](CustomerId cu, Channel ch, const std::string& purpose) {
      bool found = false, ok = false;
      std::int64_t best = 0;
      for (std::size_t k = 0; k < k_id.size(); ++k) {
        if (k_id[k] != cu || k_ch[k] != static_cast<std::uint8_t>(ch) || k_pu[k] != purpose ||
            k_at[k] > as_of.micros())
          continue;
        if (!found || k_at[k] > best) {
          best = k_at[k];
          ok = k_gr[k] != 0;
          found = true;
        } else if (k_at[k] == best && k_gr[k] == 0) {
          ok = false;
        }
      }
      return ok;
    };
    const DueList d = due_list(policy, c, as_of);
    INFO("seed " << seed);
    std::set<CustomerId> listed;
    for (const auto* list : {&d.due, &d.unreachable, &d.at_limit}) {
      for (const DueEntry& e : *list) {
        CHECK(listed.insert(e.customer).second);  // in one list only
        if (list == &d.due) {
          REQUIRE(e.channel);
          CHECK(granted(e.customer, *e.channel, e.purpose));
        } else {
          CHECK(!e.channel);
        }
        if (list == &d.unreachable) {
          for (const Channel ch : channels) CHECK(!granted(e.customer, ch, e.purpose));
        }
      }
    }
    // Everyone past its cadence is listed.
    for (int i = 0; i < n; ++i) {
      std::int64_t last = -1;
      bool any = false;
      for (std::size_t k = 0; k < i_id.size(); ++k) {
        if (i_id[k] == id[i] && i_at[k] <= as_of.micros() && (!any || i_at[k] > last)) {
          last = i_at[k];
          any = true;
        }
      }
      if (!any && created[i] > as_of.micros()) continue;
      const bool gold = facts.booleans(0)[static_cast<std::size_t>(i)] != 0;
      const std::int64_t every = gold ? policy.rules[0].every_days : policy.default_every_days;
      const std::int64_t due_at = (any ? last : created[i]) + every * kDay;
      if (due_at <= as_of.micros()) CHECK(listed.count(id[i]) == 1);
    }

    // Campaign audiences: every member's channel is consented for the campaign's purpose.
    AudienceOptions ao;
    ao.purpose = purposes[uni(0, 2)];
    std::vector<std::int64_t> counts(static_cast<std::size_t>(n));
    for (auto& v : counts) v = uni(0, 3);
    const Audience a = campaign_audience(c, counts, as_of, {}, ao);
    CHECK(a.members.size() + a.unreachable.size() + a.at_limit.size() ==
          static_cast<std::size_t>(n));
    for (const AudienceMember& mbr : a.members) CHECK(granted(mbr.customer, mbr.channel, ao.purpose));
    for (const CustomerId u : a.unreachable) {
      for (const Channel ch : channels) CHECK(!granted(u, ch, ao.purpose));
    }
    // The contact limit, by brute force: contacts in (as_of - 30 days, as_of] per customer.
    const auto window_count = [&](CustomerId cu, std::int64_t end) {
      std::int32_t k = 0;
      for (std::size_t j = 0; j < i_id.size(); ++j) {
        if (i_id[j] == cu && i_at[j] > end - 30 * kDay && i_at[j] <= end) ++k;
      }
      return k;
    };
    const auto limit_of = [&](CustomerId cu) {
      for (int i = 0; i < n; ++i) {
        if (id[i] == cu) return limit[static_cast<std::size_t>(i)];
      }
      return -1;
    };
    // A member is never at its contact limit.
    for (const AudienceMember& mbr : a.members) {
      const std::int32_t lim = limit_of(mbr.customer);
      CHECK((lim < 0 || window_count(mbr.customer, as_of.micros()) < lim));
    }
    // Every at-limit customer is reachable, at its limit, and free at next_contact_at, not
    // a microsecond before.
    std::set<CustomerId> in_audience;
    for (const AudienceMember& mbr : a.members) in_audience.insert(mbr.customer);
    for (const CustomerId u : a.unreachable) CHECK(in_audience.insert(u).second);
    for (const AudienceAtLimit& l : a.at_limit) {
      CHECK(in_audience.insert(l.customer).second);
      bool any = false;
      for (const Channel ch : channels) any = any || granted(l.customer, ch, ao.purpose);
      CHECK(any);
      CHECK(l.max_contacts_per_30_days == limit_of(l.customer));
      CHECK(l.contacts_30d == window_count(l.customer, as_of.micros()));
      CHECK(l.contacts_30d >= l.max_contacts_per_30_days);
      if (l.max_contacts_per_30_days == 0) {
        CHECK(!l.next_contact_at);
      } else {
        REQUIRE(l.next_contact_at);
        const std::int64_t next = l.next_contact_at->micros();
        CHECK(next > as_of.micros());
        // Contacts after as_of are not known to the audience: leave them out.
        std::int32_t later = 0;
        for (std::size_t j = 0; j < i_id.size(); ++j) {
          if (i_id[j] == l.customer && i_at[j] > as_of.micros() && i_at[j] <= next) ++later;
        }
        CHECK(window_count(l.customer, next) - later < l.max_contacts_per_30_days);
        std::int32_t known_before = 0;
        for (std::size_t j = 0; j < i_id.size(); ++j) {
          if (i_id[j] == l.customer && i_at[j] > next - 1 - 30 * kDay &&
              i_at[j] <= as_of.micros()) {
            ++known_before;
          }
        }
        CHECK(known_before >= l.max_contacts_per_30_days);
      }
    }
  }
}

TEST_CASE("store due list: an imported history counts from the first purchase, not the import") {
  // import_purchases creates the customers today; their purchases are from 1997. As of 1998 they
  // exist (their relationship started at the first purchase) and are due a year after it.
  Store store = Store::open(":memory:", usd());
  PurchaseImport rows;
  rows.currency = "USD";
  rows.customer_external_id = {"old", "old", "later"};
  rows.at = {Timestamp::parse("1997-01-10T00:00:00Z"), Timestamp::parse("1997-03-01T00:00:00Z"),
             Timestamp::parse("1998-09-01T00:00:00Z")};
  rows.amount = {"10.00", "20.00", "5.00"};
  store.import_purchases(rows);
  const DueList d = due_list(store, Timestamp::parse("1998-06-30T00:00:00Z"));
  // "later" had not started by then; "old" is due since 1998-01-10 (first purchase + 365 days),
  // and has no consent: listed apart, never offered a channel.
  CHECK(d.due.empty());
  CHECK(d.at_limit.empty());
  REQUIRE(d.unreachable.size() == 1);
  CHECK(d.unreachable[0].customer == store.get_customer_by_external_id("old").id);
  CHECK(!d.unreachable[0].last_contact);
  CHECK(d.unreachable[0].due_at == Timestamp::parse("1998-01-10T00:00:00Z"));
  CHECK(d.unreachable[0].days_overdue == 171);
  CHECK(!d.unreachable[0].channel);
}
