// Customer facts from a store: reads the store's columns (Store::columns, one read transaction)
// and runs compute_facts on them. The rules are in crmkit/analytics/facts.hpp.
#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "crmkit/analytics/facts.hpp"
#include "crmkit/base/error.hpp"
#include "crmkit/loyalty/points.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

// The customers a store-level call makes rows of (not soft-deleted), and the view of `cols`.
struct StoreView {
  std::vector<CustomerId> ids;
  std::vector<std::int64_t> created;
  FactColumns view;
};

void make_view(const StoreColumns& cols, StoreView& v) {
  const CustomerColumns& c = cols.customers;
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (c.deleted[i]) continue;
    v.ids.push_back(c.customer_id[i]);
    v.created.push_back(c.created_at_micros[i]);
  }
  FactColumns& f = v.view;
  f.scale = cols.currency.minor_units();
  f.customer_id = v.ids;
  f.created_at_micros = v.created;
  f.purchase_event_id = cols.purchases.event_id;
  f.purchase_customer_id = cols.purchases.customer_id;
  f.purchase_at_micros = cols.purchases.at_micros;
  f.purchase_amount_minor = cols.purchases.amount_minor;
  f.refund_purchase_id = cols.refunds.purchase_id;
  f.refund_at_micros = cols.refunds.at_micros;
  f.refund_amount_minor = cols.refunds.amount_minor;
  f.interaction_customer_id = cols.interactions.customer_id;
  f.interaction_at_micros = cols.interactions.at_micros;
  f.interaction_kind = cols.interactions.kind;
  f.interaction_purpose = cols.interactions.purpose;
  f.interaction_commitment_obtained = cols.interactions.commitment_obtained;
  f.referral_customer_id = cols.referrals.referrer;
  f.referral_at_micros = cols.referrals.at_micros;
  f.survey_customer_id = cols.surveys.customer_id;
  f.survey_at_micros = cols.surveys.at_micros;
  f.survey_nps = cols.surveys.nps;
  f.survey_csat = cols.surveys.csat;
  f.participation_customer_id = cols.participations.customer_id;
  f.participation_at_micros = cols.participations.at_micros;
  f.consent_customer_id = cols.consents.customer_id;
  f.consent_channel = cols.consents.channel;
  f.consent_purpose = cols.consents.purpose;
  f.consent_granted = cols.consents.granted;
  f.consent_at_micros = cols.consents.at_micros;
  f.tag_customer_id = cols.tags.customer_id;
  f.tag = cols.tags.tag;
  f.fields = cols.fields;
}

// Copies one cell (value and present flag) between two tables whose slots have the same type.
void copy_cell(const FactTable& from, std::size_t from_row, std::size_t from_slot, FactTable& to,
               std::size_t to_row, std::size_t to_slot) {
  if (!from.is_present(from_row, from_slot)) {
    to.set_missing(to_row, to_slot);
    return;
  }
  switch (from.schema()[from_slot].type) {
    case FactType::number:
      to.set_number(to_row, to_slot, from.numbers(from_slot)[from_row]);
      break;
    case FactType::integer:
      to.set_integer(to_row, to_slot, from.integers(from_slot)[from_row]);
      break;
    case FactType::date: to.set_date(to_row, to_slot, from.integers(from_slot)[from_row]); break;
    case FactType::boolean:
      to.set_boolean(to_row, to_slot, from.booleans(from_slot)[from_row] != 0);
      break;
    case FactType::text: to.set_text(to_row, to_slot, from.texts(from_slot)[from_row]); break;
    case FactType::text_list:
      to.set_text_list(to_row, to_slot, from.text_lists(from_slot)[from_row]);
      break;
  }
}

// stage.<m> / days_in_stage.<m> as of the date, from the store's transition history of machine
// m (customers only): the state entered by the customer's last transition at or before as_of
// and its time; for a customer whose transitions are all later, the state its first transition
// left, entered at its record's created_at (missing if that is after as_of too). A customer
// without any transition in m is in FactOptions::initial_states' state of m since its
// created_at (clamped to as_of); without an entry for m its stage facts are missing (the history
// does not know the machine's initial state).
struct StageHolder {
  std::vector<MachineStageColumns> machines;
};

void add_machine_stages(const Store& store, const FactOptions& options, const StoreView& v,
                        Timestamp as_of, StageHolder& out) {
  const std::vector<std::string>& wanted = options.facts;
  std::vector<std::string> names;
  for (const std::string& f : wanted) {
    std::string m;
    if (f.rfind("stage.", 0) == 0) m = f.substr(6);
    else if (f.rfind("days_in_stage.", 0) == 0) m = f.substr(14);
    else continue;
    if (std::find(names.begin(), names.end(), m) == names.end()) names.push_back(m);
  }
  for (const std::string& name : names) {
    const TransitionColumns h = store.history(name);
    // Per customer: its last row at or before as_of, else its first row.
    std::map<CustomerId, std::pair<std::size_t, bool>> pick;  // row, at or before as_of
    for (std::size_t k = 0; k < h.size(); ++k) {
      if (h.entity_kind[k] != EntityKind::customer) continue;
      const bool before = h.at_micros[k] <= as_of.micros();
      auto it = pick.find(h.entity_id[k]);
      if (it == pick.end()) {
        pick.emplace(h.entity_id[k], std::make_pair(k, before));
      } else if (before) {
        it->second = {k, true};  // rows come in history order: a later one at or before as_of
      }
    }
    MachineStageColumns m;
    m.machine = name;
    const auto initial = options.initial_states.find(name);
    for (std::size_t i = 0; i < v.ids.size(); ++i) {
      const auto it = pick.find(v.ids[i]);
      if (it == pick.end()) {
        if (initial == options.initial_states.end()) continue;
        m.customer_id.push_back(v.ids[i]);
        m.stage.push_back(initial->second);
        m.entered_at_micros.push_back(std::min(v.created[i], as_of.micros()));
        continue;
      }
      const auto [k, before] = it->second;
      m.customer_id.push_back(v.ids[i]);
      m.stage.push_back(before ? h.to[k] : h.from[k]);
      m.entered_at_micros.push_back(before ? h.at_micros[k] : v.created[i]);
    }
    out.machines.push_back(std::move(m));
  }
}

// The store columns a computation of `facts` needs. Every event kind is read (any event makes a
// customer a row as of the date); consents, tags and custom fields, which parse the customer
// records, only when a fact reads them (all of them when `facts` is empty: the whole catalogue).
ColumnRequest request_for(const std::vector<std::string>& facts) {
  ColumnRequest r;
  if (facts.empty()) return r;
  r.consents = r.tags = r.fields = false;
  for (const std::string& f : facts) {
    if (f.rfind("consent", 0) == 0) r.consents = true;
    if (f == "tags") r.tags = true;
    if (f.rfind("field.", 0) == 0) r.fields = true;
  }
  return r;
}

bool is_rfm(std::string_view name) { return name.substr(0, 4) == "rfm."; }

// ---- points facts: points.<program>.redeemable (integer) and points.<program>.tier (text) ----
// They come from the store's points ledger (Store::points_balances / points_account as of the
// date), not from compute_facts: facts_as_of asks compute_facts for the other facts and adds
// these columns in the requested order. A customer without an entry at or before the date has 0
// redeemable points and the programme's lowest tier (missing when it has no tiers).

struct PointsFact {
  std::string name;
  std::string program;
  bool tier = false;  // else redeemable
};

// The points facts of `facts` (every programme's when `facts` is empty), checked against the
// stored programmes; `rest` receives the other facts in order. Throws Error{invalid_argument}
// "facts[i]: unknown fact 'x'" like compute_facts.
std::vector<PointsFact> split_points_facts(const Store& store,
                                           const std::vector<std::string>& facts,
                                           std::vector<std::string>& rest) {
  std::vector<PointsFact> out;
  const bool every = facts.empty();
  std::vector<std::string> programs;
  const bool any = every || std::any_of(facts.begin(), facts.end(), [](const std::string& f) {
                     return f.rfind("points.", 0) == 0;
                   });
  if (any)
    for (const auto& p : store.points_programs()) programs.push_back(p.name);
  if (every) {
    for (const auto& p : programs) {
      out.push_back({"points." + p + ".redeemable", p, false});
      out.push_back({"points." + p + ".tier", p, true});
    }
    return out;
  }
  for (std::size_t i = 0; i < facts.size(); ++i) {
    const std::string& f = facts[i];
    if (f.rfind("points.", 0) != 0) {
      rest.push_back(f);
      continue;
    }
    bool found = false;
    for (const auto& p : programs) {
      for (const bool tier : {false, true}) {
        if (f == "points." + p + (tier ? ".tier" : ".redeemable")) {
          out.push_back({f, p, tier});
          found = true;
        }
      }
    }
    if (!found) throw_invalid("facts[" + std::to_string(i) + "]", "unknown fact '" + f + "'");
  }
  return out;
}

// Redeemable points and tier per customer as of the date, for one programme.
struct PointsValues {
  std::map<CustomerId, std::pair<std::int64_t, std::string>> rows;
  std::optional<std::string> lowest;  // the tier of a customer without an entry
};

PointsValues points_values(const Store& store, const std::string& program, Timestamp as_of,
                           std::optional<CustomerId> one) {
  PointsValues v;
  const Program p = store.points_program(program);
  if (!p.tiers.tiers.empty()) v.lowest = p.tiers.tiers.front().name;
  if (one) {
    const Account a = store.points_account(program, *one, as_of);
    v.rows[*one] = {a.redeemable(), a.tier};  // an empty tier reads as the lowest one
    return v;
  }
  const BalanceColumns b = store.points_balances(program, as_of);
  for (std::size_t i = 0; i < b.customer.size(); ++i)
    v.rows[b.customer[i]] = {b.available[i] > b.debt[i] ? b.available[i] - b.debt[i] : 0,
                             b.tier[i]};
  return v;
}

// Rebuilds `out.table` with the columns in the order asked (`facts`; empty: the computed
// columns, then the points facts), the points columns filled from the ledger. A placeholder
// column the caller asked compute_facts for (it needs at least one fact) is not in `facts`, so
// it is dropped here.
void add_points_facts(const Store& store, const std::vector<std::string>& facts,
                      const std::vector<PointsFact>& points, Timestamp as_of,
                      std::optional<CustomerId> one, CustomerFacts& out) {
  if (points.empty()) return;
  std::map<std::string, PointsValues> values;
  for (const auto& pf : points)
    if (!values.count(pf.program)) values[pf.program] = points_values(store, pf.program, as_of, one);
  const FactSchema& computed = out.table.schema();
  std::vector<std::string> order;
  if (facts.empty()) {
    for (const auto& d : computed.facts()) order.push_back(d.name);
    for (const auto& pf : points) order.push_back(pf.name);
  } else {
    order = facts;
  }
  FactSchema schema;
  for (const auto& name : order) {
    const auto it = std::find_if(points.begin(), points.end(),
                                 [&](const PointsFact& pf) { return pf.name == name; });
    if (it != points.end()) {
      schema.add(name, it->tier ? FactType::text : FactType::integer,
                 it->tier ? "the customer's tier in points programme '" + it->program +
                                "' as of the date (the lowest tier without an entry)"
                          : "points of programme '" + it->program +
                                "' the customer may redeem as of the date (available - debt)");
    } else {
      const auto& d = computed[computed.slot(name)];
      schema.add(d.name, d.type, d.description);
    }
  }
  const std::size_t rows = out.size();
  FactTable table(schema, rows);
  for (std::size_t k = 0; k < schema.size(); ++k) {
    const std::string& name = schema[k].name;
    const auto it = std::find_if(points.begin(), points.end(),
                                 [&](const PointsFact& pf) { return pf.name == name; });
    if (it == points.end()) {
      const std::size_t from = computed.slot(name);
      for (std::size_t r = 0; r < rows; ++r) copy_cell(out.table, r, from, table, r, k);
      continue;
    }
    const PointsValues& v = values.at(it->program);
    for (std::size_t r = 0; r < rows; ++r) {
      const auto row = v.rows.find(out.customer_id[r]);
      if (!it->tier) {
        table.set_integer(r, k, row == v.rows.end() ? 0 : row->second.first);
      } else if (row != v.rows.end() && !row->second.second.empty()) {
        table.set_text(r, k, row->second.second);
      } else if (v.lowest) {
        table.set_text(r, k, *v.lowest);
      } else {
        table.set_missing(r, k);
      }
    }
  }
  out.table = std::move(table);
}

}  // namespace

CustomerFacts facts_as_of(const Store& store, Timestamp as_of, const FactOptions& options) {
  FactOptions o = options;
  o.facts.clear();
  const std::vector<PointsFact> points = split_points_facts(store, options.facts, o.facts);
  // compute_facts reads an empty list as "every fact": ask for a cheap one, dropped below.
  const bool placeholder = !options.facts.empty() && o.facts.empty();
  if (placeholder) o.facts = {"days_since_created"};
  const StoreColumns cols = store.columns(request_for(o.facts));
  StoreView v;
  make_view(cols, v);
  o.ignore_unknown_customers = true;  // the events of soft-deleted customers
  StageHolder stages;
  add_machine_stages(store, o, v, as_of, stages);
  v.view.machines = stages.machines;
  CustomerFacts out = compute_facts(v.view, as_of, o);
  // The rows are a subsequence of the customers (ascending ids), read in the same transaction.
  const CustomerColumns& c = cols.customers;
  out.external_id.reserve(out.size());
  std::size_t k = 0;
  for (const CustomerId id : out.customer_id) {
    while (c.customer_id[k] != id) ++k;
    out.external_id.push_back(c.external_id[k]);
  }
  add_points_facts(store, options.facts, points, as_of, std::nullopt, out);
  return out;
}

CustomerFacts customer_facts(const Store& store, CustomerId customer, Timestamp as_of,
                             const FactOptions& options) {
  FactOptions po = options;
  po.facts.clear();
  const std::vector<PointsFact> points = split_points_facts(store, options.facts, po.facts);
  const bool placeholder = !options.facts.empty() && po.facts.empty();
  if (placeholder) po.facts = {"days_since_created"};
  ColumnRequest request = request_for(po.facts);
  request.customer = customer;
  const StoreColumns cols = store.columns(request);  // throws not_found
  if (cols.customers.size() != 1) {
    throw_error(ErrorCode::not_found, "customer", "no customer " + std::to_string(customer));
  }
  if (cols.customers.deleted[0]) {
    throw_invalid("customer", std::to_string(customer) + " is soft-deleted");
  }
  StoreView v;
  make_view(cols, v);
  FactOptions o = po;
  o.ignore_unknown_customers = true;
  StageHolder stages;
  add_machine_stages(store, o, v, as_of, stages);
  v.view.machines = stages.machines;
  CustomerFacts out = compute_facts(v.view, as_of, o);
  if (out.size() != 1) {
    throw_invalid("customer", std::to_string(customer) + " does not exist as of " +
                                  as_of.to_string());
  }
  out.external_id = {cols.customers.external_id[0]};

  // RFM ranks the customer among every customer: compute those facts on the whole store's
  // purchases and copy the customer's cells over.
  std::vector<std::string> rfm_names;
  for (const FactDecl& d : out.table.schema().facts()) {
    if (is_rfm(d.name)) rfm_names.push_back(d.name);
  }
  if (!rfm_names.empty()) {
    ColumnRequest all;
    all.interactions = all.referrals = all.surveys = all.participations = false;
    all.consents = all.tags = all.fields = false;
    const StoreColumns every = store.columns(all);
    StoreView ev;
    make_view(every, ev);
    FactOptions ro = o;
    ro.facts = rfm_names;
    ro.windows.clear();
    ro.model = FactModel{};
    const CustomerFacts ranked = compute_facts(ev.view, as_of, ro);
    std::size_t row = ranked.size();
    for (std::size_t r = 0; r < ranked.size(); ++r) {
      if (ranked.customer_id[r] == customer) row = r;
    }
    if (row == ranked.size()) {
      throw_error(ErrorCode::conflict, "customer",
                  std::to_string(customer) + " vanished between two reads");
    }
    for (std::size_t k = 0; k < rfm_names.size(); ++k) {
      copy_cell(ranked.table, row, k, out.table, 0, out.table.schema().slot(rfm_names[k]));
    }
  }
  add_points_facts(store, options.facts, points, as_of, customer, out);
  return out;
}

}  // namespace v0
}  // namespace crmkit
