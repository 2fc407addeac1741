// Store: erasure of a customer's personal data and the suppression list.
#include <sqlite3.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <set>
#include <string>
#include <utility>

#include "crmkit/base/error.hpp"
#include "store/codes.hpp"
#include "store/store_impl.hpp"
#include "store/write_scope.hpp"

namespace crmkit {
inline namespace v0 {

namespace {

using Contacts = std::set<std::pair<std::string, std::string>>;  // (kind, normalised value)

// An e-mail or phone (other kinds are not suppressed), normalised as a live write stores it; a
// value that no longer normalises (an old audit entry, an import) is kept as it is.
void add_contact(Contacts& out, ContactKind kind, const std::string& value) {
  if (value.empty()) return;
  if (kind != ContactKind::email && kind != ContactKind::phone) return;
  const bool email = kind == ContactKind::email;
  std::string v = value;
  try {
    v = email ? normalize_email(value, "email") : normalize_phone(value, "phone");
  } catch (const Error&) {
  }
  out.emplace(email ? "email" : "phone", std::move(v));
}

void add_contacts_json(Contacts& out, const nlohmann::json& list) {
  if (!list.is_array()) return;
  for (const auto& cp : list) {
    if (!cp.is_object()) continue;
    auto k = cp.find("kind");
    auto v = cp.find("value");
    if (k == cp.end() || v == cp.end() || !k->is_string() || !v->is_string()) continue;
    const std::string& kind = k->get_ref<const std::string&>();
    if (kind == "email") add_contact(out, ContactKind::email, v->get<std::string>());
    else if (kind == "phone") add_contact(out, ContactKind::phone, v->get<std::string>());
  }
}

// The external ids, e-mails and phones in one audit value of a customer: a whole record (create)
// or the value of one top-level field (update "external_id" or "contacts"). Anything else, or
// text that is not JSON, holds none.
void collect_from_audit(Contacts& out, const std::string& field, const std::string& text) {
  if (text.empty()) return;
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return;
  if (field.empty() && j.is_object()) {
    auto x = j.find("external_id");
    if (x != j.end() && x->is_string() && !x->get_ref<const std::string&>().empty())
      out.emplace("external_id", x->get<std::string>());
    auto cs = j.find("contacts");
    if (cs != j.end()) add_contacts_json(out, *cs);
  } else if (field == "external_id" && j.is_string()) {
    if (!j.get_ref<const std::string&>().empty()) out.emplace("external_id", j.get<std::string>());
  } else if (field == "contacts") {
    add_contacts_json(out, j);
  }
}

}  // namespace

std::string Store::Impl::hmac_sha256(std::string_view key, std::string_view msg) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), out, &len))
    throw Error(ErrorCode::storage, "store: HMAC-SHA-256 failed");
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string Store::Impl::key_check(std::string_view key) {
  return hmac_sha256(key, "crmkit-key-check");
}

std::string Store::Impl::suppression_hash(std::string_view kind, std::string_view value) const {
  std::string key;
  {
    std::lock_guard<std::mutex> g(key_mu);
    key = suppression_key;
  }
  std::string msg;
  msg.reserve(kind.size() + 1 + value.size());
  msg.append(kind);
  msg.push_back(':');
  msg.append(value);
  return hmac_sha256(key, msg);
}

bool Store::Impl::hash_suppressed(sql::Db& db, const std::string& hash) const {
  auto s = db.cached("SELECT 1 FROM suppression WHERE hash = ?");
  s.bind_blob(1, hash.data(), hash.size());
  return s.step();
}

EraseReport Store::erase_customer(CustomerId id, const WriteContext& ctx) {
  EraseReport report;
  report.customer = id;
  {
    Impl::WriteScope w(*impl_, ctx);
    sql::Db& db = w.db();
    Customer c = impl_->read_customer(db, id);
    if (c.erased) return report;
    const Timestamp now = w.now();

    // One-way hashes first: every external id, e-mail and phone the customer ever had, from the
    // record as it is and from its audit entries (a create holds the first record, an update of
    // "contacts" or "external_id" the old and the new value), before those are scrubbed.
    std::set<std::pair<std::string, std::string>> values;  // (kind, value)
    values.emplace("external_id", c.external_id);
    for (const auto& cp : c.contacts) add_contact(values, cp.kind, cp.value);
    {
      auto s = db.cached(
          "SELECT field, old_value, new_value FROM audit WHERE entity = 'customer' AND "
          "entity_id = ? AND action IN ('create', 'update') AND "
          "(old_value <> '' OR new_value <> '')");
      s.bind(1, id);
      while (s.step()) {
        const std::string field = s.str(0);
        for (int col : {1, 2}) collect_from_audit(values, field, s.str(col));
      }
    }
    std::vector<std::pair<std::string, std::string>> hashes;  // (hash, kind)
    for (const auto& [kind, value] : values)
      hashes.emplace_back(impl_->suppression_hash(kind, value), kind);

    // The record keeps its id, kind, dates, tags, owner and non-personal custom fields.
    Customer b = c;
    b.external_id = "erased:" + std::to_string(id);
    b.name = "[erased]";
    b.demographics = Demographics{};
    b.contacts.clear();
    b.consents.clear();
    for (const auto& f : impl_->fields)
      if (f.personal) b.custom.erase(f.name);
    for (auto& m : b.memberships) m.title.clear();
    b.erased = true;
    b.updated_at = now;
    impl_->write_customer_row(db, b, false);
    Impl::write_contact_index(db, b);

    // Events: blank personal text, keep amounts, times and categories.
    std::vector<std::pair<EventId, std::string>> rewrites;
    {
      auto s = db.cached(
          "SELECT id, type, data FROM events WHERE customer_id = ? AND data IS NOT NULL AND "
          "type IN (?, ?, ?)");
      s.bind(1, id)
          .bind(2, codes::kRefund)
          .bind(3, codes::kInteraction)
          .bind(4, codes::kSurveyResponse);
      while (s.step()) {
        const auto type = static_cast<EventType>(s.i64(1));
        nlohmann::json j = nlohmann::json::parse(s.text(2));
        bool changed = false;
        auto blank = [&](const char* key) {
          auto it = j.find(key);
          if (it != j.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
            *it = "";
            changed = true;
          }
        };
        if (type == EventType::refund) blank("reason");
        if (type == EventType::interaction) {
          blank("note");
          blank("commitment_asked");
        }
        if (type == EventType::survey_response) blank("comment");
        if (changed)
          rewrites.emplace_back(s.i64(0), type == EventType::refund ? std::string() : j.dump());
      }
    }
    for (const auto& [eid, data] : rewrites) {
      auto u = db.cached("UPDATE events SET data = ? WHERE id = ?");
      if (data.empty()) u.bind_null(1); else u.bind_static(1, data);
      u.bind(2, eid).run();
    }
    report.events_scrubbed = rewrites.size();

    {
      auto u = db.cached(
          "UPDATE audit SET old_value = '', new_value = '' WHERE entity = 'customer' AND "
          "entity_id = ? AND (old_value <> '' OR new_value <> '')");
      u.bind(1, id).run();
      report.audit_entries_scrubbed = static_cast<std::size_t>(db.changes());
    }
    // Lifecycle (schema v3): the history of the customer and of its opportunities is kept
    // (states, times and rule names are not personal), its free-text reasons are blanked; the
    // customer's opportunities keep amount, dates, owner and stage, and their names (free text
    // that may name the person) become "[erased]", in the rows and in their audit entries.
    {
      auto u = db.cached(
          "UPDATE transitions SET reason = '' WHERE reason <> '' AND ((entity_kind = ?1 AND "
          "entity_id = ?3) OR (entity_kind = ?2 AND entity_id IN (SELECT id FROM opportunities "
          "WHERE customer_id = ?3)))");
      u.bind(1, codes::code(EntityKind::customer))
          .bind(2, codes::code(EntityKind::opportunity))
          .bind(3, id)
          .run();
    }
    {
      auto u = db.cached(
          "UPDATE audit SET old_value = '', new_value = '' WHERE entity = 'opportunity' AND "
          "entity_id IN (SELECT id FROM opportunities WHERE customer_id = ?) AND "
          "(old_value <> '' OR new_value <> '')");
      u.bind(1, id).run();
      report.audit_entries_scrubbed += static_cast<std::size_t>(db.changes());
    }
    {
      auto u = db.cached(
          "UPDATE opportunities SET name = '[erased]' WHERE customer_id = ? AND name <> '[erased]'");
      u.bind(1, id).run();
    }
    // Points (schema v4): the entries keep their numbers, dates and rule names; their reasons
    // (free text) are blanked.
    Impl::erase_points(db, id);
    {
      auto ins = db.cached("INSERT OR IGNORE INTO suppression(hash, kind) VALUES(?, ?)");
      for (const auto& [hash, kind] : hashes) {
        ins.bind_blob(1, hash.data(), hash.size()).bind(2, kind).run();
        report.suppression_hashes += static_cast<std::size_t>(db.changes());
        ins.reset();
      }
    }
    w.audit("customer", id, "erase", "", "", "");
    w.commit();

    // Old page images of the erased rows live in the WAL until it is checkpointed and truncated.
    if (impl_->memory) {
      report.wal_truncated = true;
    } else {
      int log = 0, done = 0;
      const int rc = sqlite3_wal_checkpoint_v2(db.raw(), nullptr, SQLITE_CHECKPOINT_TRUNCATE,
                                               &log, &done);
      report.wal_truncated = rc == SQLITE_OK;
    }
  }
  return report;
}

bool Store::is_suppressed(std::string_view external_id, std::string_view email,
                          std::string_view phone) const {
  std::vector<std::string> hashes;
  if (!external_id.empty()) hashes.push_back(impl_->suppression_hash("external_id", external_id));
  if (!email.empty())
    hashes.push_back(impl_->suppression_hash("email", normalize_email(email, "email")));
  if (!phone.empty())
    hashes.push_back(impl_->suppression_hash("phone", normalize_phone(phone, "phone")));
  Impl::ReadLease lease(*impl_);
  for (const auto& h : hashes)
    if (impl_->hash_suppressed(lease.db(), h)) return true;
  return false;
}

}  // namespace v0
}  // namespace crmkit
