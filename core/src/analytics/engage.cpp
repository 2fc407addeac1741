// Follow-up and campaigns on a Store (crmkit/analytics/engage.hpp).
#include "crmkit/analytics/engage.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "crmkit/analytics/lifecycle.hpp"
#include "crmkit/base/error.hpp"
#include "crmkit/lifecycle/defaults.hpp"
#include "crmkit/lifecycle/machine.hpp"
#include "crmkit/rules/rules.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

constexpr const char* kLifecycle = "customer_lifecycle";

// The store's customers as contact columns (owning storage behind the ContactColumns views).
struct Contacts {
  StoreColumns cols;
  std::vector<CustomerId> id;
  std::vector<std::string> external_id;
  std::vector<std::int64_t> created;
  std::vector<std::int8_t> preferred;
  std::vector<std::int32_t> limit;
  std::vector<std::string> stage_action;
  FactTable facts;
  bool has_facts = false;
  ContactColumns view;
};

// Reads customers (neither deleted nor erased, with a relationship started by as_of), consents, preferences and
// interactions in one read transaction.
void read_contacts(const Store& store, Timestamp as_of, Contacts& c) {
  ColumnRequest r;
  r.refunds = r.referrals = r.surveys = r.participations = false;
  r.tags = r.fields = false;
  r.purchases = r.consents = r.interactions = r.preferences = r.customers = true;
  c.cols = store.columns(r);
  const CustomerColumns& cu = c.cols.customers;
  // A customer's relationship starts at its creation in the store or at its first purchase,
  // whichever is earlier: an imported history (import_purchases) predates the records it creates.
  std::unordered_map<CustomerId, std::int64_t> first_purchase;
  first_purchase.reserve(cu.size());
  const PurchaseColumns& pu = c.cols.purchases;
  for (std::size_t i = 0; i < pu.customer_id.size(); ++i) {
    auto [it, fresh] = first_purchase.try_emplace(pu.customer_id[i], pu.at_micros[i]);
    if (!fresh && pu.at_micros[i] < it->second) it->second = pu.at_micros[i];
  }
  c.cols.purchases = PurchaseColumns{};
  for (std::size_t i = 0; i < cu.size(); ++i) {
    std::int64_t start = cu.created_at_micros[i];
    if (auto it = first_purchase.find(cu.customer_id[i]); it != first_purchase.end()) {
      start = std::min(start, it->second);
    }
    if (cu.deleted[i] || cu.erased[i] || start > as_of.micros()) continue;
    c.id.push_back(cu.customer_id[i]);
    c.external_id.push_back(cu.external_id[i]);
    c.created.push_back(start);
    c.preferred.push_back(c.cols.preferences.preferred_channel[i]);
    c.limit.push_back(c.cols.preferences.max_contacts_per_30_days[i]);
  }
  ContactColumns& v = c.view;
  v.customer_id = c.id;
  v.created_at_micros = c.created;
  v.preferred_channel = c.preferred;
  v.max_contacts_per_30_days = c.limit;
  // Consent and interaction rows of customers left out are dropped (the pure layer refuses
  // unknown customers).
  std::unordered_set<CustomerId> kept(c.id.begin(), c.id.end());
  ConsentColumns& k = c.cols.consents;
  {
    ConsentColumns f;
    for (std::size_t i = 0; i < k.customer_id.size(); ++i) {
      if (!kept.count(k.customer_id[i])) continue;
      f.customer_id.push_back(k.customer_id[i]);
      f.channel.push_back(k.channel[i]);
      f.purpose.push_back(std::move(k.purpose[i]));
      f.granted.push_back(k.granted[i]);
      f.at_micros.push_back(k.at_micros[i]);
    }
    k = std::move(f);
  }
  InteractionColumns& in = c.cols.interactions;
  {
    std::size_t w = 0;
    for (std::size_t i = 0; i < in.customer_id.size(); ++i) {
      if (!kept.count(in.customer_id[i])) continue;
      in.customer_id[w] = in.customer_id[i];
      in.at_micros[w] = in.at_micros[i];
      in.kind[w] = in.kind[i];
      ++w;
    }
    in.customer_id.resize(w);
    in.at_micros.resize(w);
    in.kind.resize(w);
  }
  v.consent_customer_id = k.customer_id;
  v.consent_channel = k.channel;
  v.consent_purpose = k.purpose;
  v.consent_granted = k.granted;
  v.consent_at_micros = k.at_micros;
  v.interaction_customer_id = in.customer_id;
  v.interaction_at_micros = in.at_micros;
  v.interaction_kind = in.kind;
}

// Copies row `from` of `src` into row `to` of `dst` (same schema).
void copy_row(const FactTable& src, std::size_t from, FactTable& dst, std::size_t to) {
  for (std::size_t s = 0; s < src.schema().size(); ++s) {
    if (!src.is_present(from, s)) continue;
    switch (src.schema()[s].type) {
      case FactType::number: dst.set_number(to, s, src.numbers(s)[from]); break;
      case FactType::integer: dst.set_integer(to, s, src.integers(s)[from]); break;
      case FactType::date: dst.set_date(to, s, src.integers(s)[from]); break;
      case FactType::boolean: dst.set_boolean(to, s, src.booleans(s)[from] != 0); break;
      case FactType::text: dst.set_text(to, s, src.texts(s)[from]); break;
      case FactType::text_list: dst.set_text_list(to, s, src.text_lists(s)[from]); break;
    }
  }
}

// Computes `names` as of the date and aligns them with c.id (a customer without a facts row
// gets missing cells).
void add_facts(const Store& store, Timestamp as_of, std::vector<std::string> names,
               const std::vector<WindowFact>& windows, const FactModel& model,
               const FactSchema& schema, Contacts& c) {
  FactOptions o;
  o.facts = std::move(names);
  o.windows = windows;
  o.model = model;
  for (const std::string& f : o.facts) {
    std::string m;
    if (f.rfind("stage.", 0) == 0) m = f.substr(6);
    if (f.rfind("days_in_stage.", 0) == 0) m = f.substr(14);
    if (m.empty() || o.initial_states.count(m)) continue;
    o.initial_states.emplace(m, default_machine(m, schema).initial_state());
  }
  const CustomerFacts facts = facts_as_of(store, as_of, o);
  c.facts = FactTable(facts.table.schema(), c.id.size());
  std::unordered_map<CustomerId, std::size_t> row;
  for (std::size_t i = 0; i < facts.size(); ++i) row.emplace(facts.customer_id[i], i);
  for (std::size_t i = 0; i < c.id.size(); ++i) {
    const auto it = row.find(c.id[i]);
    if (it != row.end()) copy_row(facts.table, it->second, c.facts, i);
  }
  c.has_facts = true;
  c.view.facts = &c.facts;
}

// The fact names a set of rules reads, compiled against `schema` (errors name each rule's path).
void rule_facts(const std::string& text, const std::string& path, const FactSchema& schema,
                std::set<std::string>& names) {
  if (text.empty()) return;
  const Rule rule = Rule::compile(text, schema, RuleOptions{path});
  for (std::string& n : rule.dependency_names()) names.insert(std::move(n));
}

FactSchema engage_schema(const Store& store, const std::vector<WindowFact>& windows) {
  const std::vector<std::string> machines = default_machine_names();
  return store_fact_schema(store, machines, windows);
}

void check_campaign_name(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 64;
  for (const char ch : name) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')) {
      ok = false;
    }
  }
  if (!ok) {
    throw_invalid("campaign", "must be 1..64 lower-case letters, digits, '_' or '-', got '" +
                                  std::string(name) + "'");
  }
}

InteractionKind kind_of(Channel ch) {
  switch (ch) {
    case Channel::email: return InteractionKind::email;
    case Channel::sms:
    case Channel::im: return InteractionKind::message;
    case Channel::phone: return InteractionKind::call;
    case Channel::visit: return InteractionKind::visit;
    case Channel::post: return InteractionKind::other;
  }
  return InteractionKind::other;
}

std::string source_of(std::string_view name) { return "campaign:" + std::string(name); }

}  // namespace

DueList due_list(const Store& store, Timestamp as_of, const FollowUpPolicy& policy,
                 const FollowUpOptions& options) {
  validate_follow_up_policy(policy, "policy");
  Contacts c;
  read_contacts(store, as_of, c);

  std::set<std::string> names;
  FactSchema schema;
  bool any_rule = false;
  for (const CadenceRule& r : policy.rules) any_rule = any_rule || !r.when.empty();
  if (any_rule || options.stage_actions) schema = engage_schema(store, options.windows);
  for (std::size_t i = 0; i < policy.rules.size(); ++i) {
    rule_facts(policy.rules[i].when, "policy.rules[" + std::to_string(i) + "].when", schema,
               names);
  }
  std::optional<Machine> own;
  const Machine* machine = options.lifecycle;
  if (options.stage_actions && machine == nullptr) {
    own.emplace(default_machine(kLifecycle, schema));
    machine = &*own;
  }
  const std::string stage_fact = machine ? "stage." + machine->name() : std::string();
  if (machine && schema.find(stage_fact)) names.insert(stage_fact);
  if (!names.empty()) {
    add_facts(store, as_of, {names.begin(), names.end()}, options.windows, options.model, schema,
              c);
  }
  if (machine && c.has_facts && c.facts.schema().find(stage_fact)) {
    const std::size_t slot = c.facts.schema().slot(stage_fact);
    c.stage_action.resize(c.id.size());
    for (std::size_t i = 0; i < c.id.size(); ++i) {
      if (!c.facts.is_present(i, slot)) continue;
      const std::string& stage = c.facts.texts(slot)[i];
      for (const StateDef& s : machine->states()) {
        if (s.name == stage && !s.playbook.empty()) c.stage_action[i] = s.playbook.front();
      }
    }
    c.view.stage_action = c.stage_action;
  }
  return due_list(policy, c.view, as_of, options.due);
}

Audience campaign_audience(const Store& store, Timestamp as_of, const AudienceSelection& selection,
                           const CampaignAudienceOptions& options) {
  Contacts c;
  read_contacts(store, as_of, c);
  const FactSchema schema = engage_schema(store, options.windows);
  std::set<std::string> names{"purchase_count"};
  rule_facts(selection.rule, "audience.rule", schema, names);
  add_facts(store, as_of, {names.begin(), names.end()}, options.windows, options.model, schema, c);
  std::vector<std::int64_t> counts(c.id.size(), 0);
  const std::size_t slot = c.facts.schema().slot("purchase_count");
  for (std::size_t i = 0; i < c.id.size(); ++i) {
    if (c.facts.is_present(i, slot)) counts[i] = c.facts.integers(slot)[i];
  }
  return campaign_audience(c.view, counts, as_of, selection, options.audience);
}

std::vector<EventId> record_campaign_touches(Store& store, std::string_view name,
                                             std::span<const CampaignTouch> touches, Timestamp at,
                                             const CampaignRecordOptions& options,
                                             const WriteContext& ctx) {
  check_campaign_name(name);
  if (options.purpose.empty()) throw_invalid("purpose", "must not be empty");
  std::unordered_set<CustomerId> seen;
  std::vector<Event> events;
  events.reserve(touches.size());
  const std::string source = source_of(name);
  for (std::size_t i = 0; i < touches.size(); ++i) {
    const CampaignTouch& t = touches[i];
    const std::string path = "touches[" + std::to_string(i) + "]";
    if (!seen.insert(t.customer).second) {
      throw_invalid(path + ".customer",
                    "customer " + std::to_string(t.customer) + " is listed twice");
    }
    Customer cu;
    try {
      cu = store.get_customer(t.customer);
    } catch (const Error& e) {
      throw Error(e.code(), path + ".customer: " + e.what());
    }
    bool ok = false;
    for (const Consent& k : cu.consents) {
      if (k.channel == t.channel && k.purpose == options.purpose &&
          k.status == ConsentStatus::granted && k.at <= at) {
        ok = true;
      }
    }
    if (!ok) {
      throw_error(ErrorCode::consent_required, path,
                  "customer " + std::to_string(t.customer) + " ('" + cu.external_id +
                      "') has no granted consent for " + to_string(t.channel) + " / " +
                      options.purpose);
    }
    const std::string key = source + ":touch:" + std::to_string(t.customer);
    if (cu.max_contacts_per_30_days) {
      // The contact limit: its contacts (Interaction events) in (at - 30 days, at]. A repeat of
      // this campaign's touch of the customer is no new contact (it returns the first event).
      const int limit = *cu.max_contacts_per_30_days;
      const std::int64_t start = at.micros() - 30 * 86'400'000'000LL;
      int recent = 0;
      bool repeat = false;
      for (const Event& ev : store.events_of(t.customer)) {
        if (ev.idempotency_key == key) repeat = true;
        if (ev.type() == EventType::interaction && ev.at.micros() > start && ev.at <= at) ++recent;
      }
      if (!repeat && recent >= limit) {
        throw_error(ErrorCode::conflict, path,
                    "customer " + std::to_string(t.customer) + " ('" + cu.external_id +
                        "') is at its contact limit: max_contacts_per_30_days " +
                        std::to_string(limit) + ", contacts in the 30 days up to " +
                        at.to_string() + ": " + std::to_string(recent));
      }
    }
    Event e;
    e.customer = t.customer;
    e.at = at;
    e.source = source;
    e.idempotency_key = key;
    Interaction in;
    in.kind = kind_of(t.channel);
    in.purpose = options.contact_purpose;
    e.payload = in;
    events.push_back(std::move(e));
  }
  return store.append_events(events, ctx);
}

std::vector<EventId> record_campaign_touches(Store& store, std::string_view name,
                                             const Audience& audience, Timestamp at,
                                             const WriteContext& ctx) {
  std::vector<CampaignTouch> touches;
  touches.reserve(audience.members.size());
  for (const AudienceMember& m : audience.members) touches.push_back({m.customer, m.channel});
  CampaignRecordOptions o;
  o.purpose = audience.purpose.empty() ? std::string("marketing") : audience.purpose;
  return record_campaign_touches(store, name, touches, at, o, ctx);
}

std::vector<EventId> record_campaign_responses(Store& store, std::string_view name,
                                               std::span<const CustomerId> customers,
                                               Timestamp at, const WriteContext& ctx) {
  check_campaign_name(name);
  const std::string source = source_of(name);
  const SourceEventColumns done = store.events_with_source(source);
  std::unordered_set<CustomerId> touched;
  for (std::size_t i = 0; i < done.event_id.size(); ++i) {
    if (done.idempotency_key[i].rfind(source + ":touch:", 0) == 0) {
      touched.insert(done.customer_id[i]);
    }
  }
  std::unordered_set<CustomerId> seen;
  std::vector<Event> events;
  for (std::size_t i = 0; i < customers.size(); ++i) {
    const std::string path = "customers[" + std::to_string(i) + "]";
    if (!seen.insert(customers[i]).second) {
      throw_invalid(path, "customer " + std::to_string(customers[i]) + " is listed twice");
    }
    if (!touched.count(customers[i])) {
      throw_invalid(path, "customer " + std::to_string(customers[i]) +
                              " was not touched by campaign '" + std::string(name) + "'");
    }
    Event e;
    e.customer = customers[i];
    e.at = at;
    e.source = source;
    e.idempotency_key = source + ":response:" + std::to_string(customers[i]);
    Interaction in;
    in.kind = InteractionKind::other;
    in.purpose = ContactPurpose::deal;
    e.payload = in;
    events.push_back(std::move(e));
  }
  return store.append_events(events, ctx);
}

std::vector<CampaignReportRow> campaign_report(const Store& store, std::string_view name,
                                               const Money& cost_per_contact,
                                               const ResponseOdds& odds) {
  check_campaign_name(name);
  if (cost_per_contact.is_negative()) {
    throw_invalid("cost_per_contact", "must not be negative, got " + cost_per_contact.to_string());
  }
  validate_response_odds(odds, "odds");
  const std::string source = source_of(name);
  const SourceEventColumns ev = store.events_with_source(source);
  std::map<CustomerId, std::int64_t> touch_at;  // ordered: deterministic sums
  std::unordered_set<CustomerId> responded;
  for (std::size_t i = 0; i < ev.event_id.size(); ++i) {
    const std::string& key = ev.idempotency_key[i];
    if (key.rfind(source + ":touch:", 0) == 0) {
      touch_at.emplace(ev.customer_id[i], ev.at_micros[i]);
    } else if (key.rfind(source + ":response:", 0) == 0) {
      responded.insert(ev.customer_id[i]);
    }
  }
  // Purchase counts as of each touch: purchases at or before it, less those fully refunded by
  // refunds at or before it.
  std::map<CustomerId, std::int64_t> count;
  if (!touch_at.empty()) {
    ColumnRequest r;
    r.customers = r.interactions = r.referrals = r.surveys = r.participations = false;
    r.consents = r.tags = r.fields = false;
    const StoreColumns cols = store.columns(r);
    const PurchaseColumns& p = cols.purchases;
    std::unordered_map<EventId, std::pair<std::int64_t, std::int64_t>> amount;  // id -> (amount, t)
    for (std::size_t i = 0; i < p.event_id.size(); ++i) {
      const auto it = touch_at.find(p.customer_id[i]);
      if (it == touch_at.end() || p.at_micros[i] > it->second) continue;
      ++count[p.customer_id[i]];
      amount.emplace(p.event_id[i], std::make_pair(p.amount_minor[i], it->second));
    }
    std::unordered_map<EventId, std::int64_t> refunded;
    const RefundColumns& f = cols.refunds;
    for (std::size_t i = 0; i < f.event_id.size(); ++i) {
      const auto it = amount.find(f.purchase_id[i]);
      if (it == amount.end() || f.at_micros[i] > it->second.second) continue;
      refunded[f.purchase_id[i]] += f.amount_minor[i];
    }
    for (std::size_t i = 0; i < p.event_id.size(); ++i) {
      const auto it = amount.find(p.event_id[i]);
      if (it == amount.end()) continue;
      const auto rf = refunded.find(p.event_id[i]);
      if (it->second.first > 0 && rf != refunded.end() && rf->second >= it->second.first) {
        --count[p.customer_id[i]];
      }
    }
  }
  std::vector<CampaignReportRow> rows(4);
  const char* groups[] = {"prospect", "first_time", "repeat", "all"};
  for (std::size_t g = 0; g < 4; ++g) rows[g].group = groups[g];
  double odds_sum = 0.0;
  for (const auto& [customer, t] : touch_at) {
    const auto it = count.find(customer);
    const CustomerClass cls = customer_class(it == count.end() ? 0 : it->second);
    const bool resp = responded.count(customer) != 0;
    for (const std::size_t g : {static_cast<std::size_t>(cls), std::size_t{3}}) {
      ++rows[g].touches;
      if (resp) ++rows[g].responses;
    }
    odds_sum += odds.of(cls);
  }
  for (std::size_t g = 0; g < 4; ++g) {
    CampaignReportRow& row = rows[g];
    row.response_rate = row.touches == 0 ? 0.0
                                         : static_cast<double>(row.responses) /
                                               static_cast<double>(row.touches);
    row.expected_response_rate =
        g < 3 ? odds.of(static_cast<CustomerClass>(g))
              : (row.touches == 0 ? 0.0 : odds_sum / static_cast<double>(row.touches));
    row.cost = cost_per_contact * static_cast<std::int64_t>(row.touches);
    row.cost_per_response = cost_per_response(row.cost, row.responses);
  }
  return rows;
}

}  // namespace v0
}  // namespace crmkit
