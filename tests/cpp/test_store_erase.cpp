// Tests for erase_customer and suppression in crmkit/store/store.hpp, including the byte-level check that
// an erased customer's e-mail, phone and name are nowhere in the database, its WAL or an export.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "crmkit/base/error.hpp"
#include "crmkit/store/store.hpp"
#include "support.hpp"

using namespace crmkit;
using namespace crmkit::test;
namespace fs = std::filesystem;

namespace {

std::string num4(int i) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04d", i);
  return buf;
}
std::string name_of(int i) { return "Quillon Marchbank-" + num4(i); }
std::string email_of(int i) { return "qmarch." + num4(i) + "@erasure.example"; }
std::string phone_of(int i) { return "+49155577" + num4(i); }

Customer make(int i) {
  Customer c;
  c.external_id = "ext-" + num4(i);
  c.name = name_of(i);
  c.contacts.push_back({ContactKind::email, email_of(i), "home", true});
  c.contacts.push_back({ContactKind::phone, phone_of(i), "", true});
  c.demographics.region = "Bavaria";
  c.demographics.occupation = "Glassblower " + num4(i);
  return c;
}

}  // namespace

TEST_CASE("erasure removes personal bytes from the db, the WAL and exports", "[store][erase]") {
  TempDir tmp("erase");
  const std::string path = tmp.file("crm.db");
  StoreOptions opts;
  opts.currency = "USD";
  opts.synchronous = SyncMode::off;  // erasure does not depend on it; keeps the test quick
  Store s = Store::open(path, opts);

  constexpr int kCustomers = 3000;
  constexpr int kTarget = 1234;
  for (int i = 0; i < kCustomers; ++i) REQUIRE(s.create_customer(make(i)).id == i + 1);

  PurchaseImport rows;
  rows.currency = "USD";
  for (int i = 0; i < kCustomers; ++i) {
    for (int k = 0; k < 2; ++k) {
      rows.customer_external_id.push_back("ext-" + num4(i));
      rows.at.push_back(Timestamp::from_seconds(1700000000 + i * 60 + k));
      rows.amount.push_back(k == 0 ? "10.25" : "3.40");
      rows.category.push_back(k == 0 ? "books" : "music");
    }
  }
  REQUIRE(s.import_purchases(rows).purchases_added == 2 * kCustomers);

  const CustomerId target = kTarget + 1;
  Customer t = s.get_customer(target);
  const std::string old_name = t.name;
  t.name = old_name + " Jr";
  s.update_customer(t);
  Consent k;
  k.channel = Channel::email;
  k.purpose = "marketing";
  k.at = Timestamp::from_seconds(1700000000);
  k.source = "web-form";
  s.set_consent(target, k);

  Event note;
  note.customer = target;
  note.at = Timestamp::from_seconds(1710000000);
  Interaction in;
  in.kind = InteractionKind::visit;
  in.commitment_asked = "call " + phone_of(kTarget);
  in.note = "Met " + old_name + ", write to " + email_of(kTarget);
  note.payload = in;
  s.append_event(note);
  Event survey;
  survey.customer = target;
  survey.at = Timestamp::from_seconds(1710000100);
  SurveyResponse sr;
  sr.nps = 9;
  sr.comment = "I am " + old_name + " Jr, phone " + phone_of(kTarget);
  survey.payload = sr;
  s.append_event(survey);

  const Money revenue = s.summary().revenue;
  CHECK(revenue == Money::parse("40950.00", Currency::of("USD")));
  s.export_jsonl(tmp.file("before.jsonl"));
  CHECK(read_bytes(tmp.file("before.jsonl")).find(email_of(kTarget)) != std::string::npos);

  EraseReport r = s.erase_customer(target, {"dpo", "gdpr-request"});
  CHECK(r.customer == target);
  CHECK(r.events_scrubbed == 2);
  CHECK(r.audit_entries_scrubbed == 3);  // create, update name, consent
  CHECK(r.suppression_hashes == 3);      // external id, e-mail, phone
  CHECK(r.wal_truncated);

  s.export_jsonl(tmp.file("after.jsonl"));
  CHECK_FALSE(fs::exists(tmp.file("after.jsonl.tmp")));

  const std::string db = read_bytes(path);
  const std::string wal = fs::exists(path + "-wal") ? read_bytes(path + "-wal") : std::string();
  const std::string exported = read_bytes(tmp.file("after.jsonl"));
  REQUIRE(db.size() > 100000);
  REQUIRE(exported.size() > 100000);
  // The search does find the neighbours' data, so a miss below means the bytes are gone.
  CHECK(db.find(email_of(kTarget + 1)) != std::string::npos);
  CHECK(db.find(phone_of(kTarget + 1)) != std::string::npos);
  CHECK(db.find(name_of(kTarget + 1)) != std::string::npos);
  CHECK(exported.find(email_of(kTarget - 1)) != std::string::npos);
  for (const std::string& needle :
       {email_of(kTarget), phone_of(kTarget), old_name, std::string("Glassblower " + num4(kTarget))}) {
    INFO(needle);
    REQUIRE(db.find(needle) == std::string::npos);
    REQUIRE(wal.find(needle) == std::string::npos);
    REQUIRE(exported.find(needle) == std::string::npos);
  }

  // Aggregates and the anonymous events stay.
  CHECK(s.summary().revenue == revenue);
  CHECK(s.summary().customers == static_cast<std::size_t>(kCustomers));
  auto evs = s.events_of(target);
  REQUIRE(evs.size() == 4);
  CHECK(std::get<Purchase>(evs[0].payload).amount == Money::parse("10.25", Currency::of("USD")));
  CHECK(std::get<Purchase>(evs[0].payload).category == "books");
  CHECK(std::get<Interaction>(evs[2].payload).note.empty());
  CHECK(std::get<Interaction>(evs[2].payload).commitment_asked.empty());
  CHECK(std::get<Interaction>(evs[2].payload).kind == InteractionKind::visit);
  CHECK(std::get<SurveyResponse>(evs[3].payload).comment.empty());
  CHECK(std::get<SurveyResponse>(evs[3].payload).nps == 9);

  Customer e = s.get_customer(target);
  CHECK(e.erased);
  CHECK(e.external_id == "erased:" + std::to_string(target));
  CHECK(e.contacts.empty());
  CHECK(e.consents.empty());
  CHECK(e.demographics == Demographics{});
  auto log = s.audit_log(target);
  REQUIRE(log.size() == 4);
  for (const auto& a : log) {
    CHECK(a.old_value.empty());
    CHECK(a.new_value.empty());
  }
  CHECK(log[3].action == "erase");
  CHECK(log[3].actor == "dpo");

  // The person cannot come back silently.
  CHECK(s.is_suppressed("ext-" + num4(kTarget)));
  CHECK(s.is_suppressed("", "QMARCH." + num4(kTarget) + "@Erasure.Example"));
  CHECK(s.is_suppressed("", "", phone_of(kTarget)));
  CHECK_FALSE(s.is_suppressed("ext-" + num4(kTarget + 1), email_of(kTarget + 1)));
  const std::size_t before = s.count_customers();
  auto again = catch_error([&] { s.create_customer(make(kTarget)); });
  CHECK(again.code() == ErrorCode::suppressed);
  CHECK(std::string(again.what()) == "customer.external_id: 'ext-1234' belongs to an erased customer");
  Customer same_mail = make(kTarget);
  same_mail.external_id = "fresh-1";
  same_mail.contacts.pop_back();
  auto mail = catch_error([&] { s.create_customer(same_mail); });
  CHECK(mail.code() == ErrorCode::suppressed);
  CHECK(std::string(mail.what()) ==
        "customer.contacts[0].value: this e-mail belongs to an erased customer");
  Customer same_phone = make(kTarget);
  same_phone.external_id = "fresh-2";
  same_phone.contacts.erase(same_phone.contacts.begin());
  CHECK(catch_error([&] { s.create_customer(same_phone); }).code() == ErrorCode::suppressed);
  Customer other = s.get_customer(1);
  other.contacts.push_back({ContactKind::email, email_of(kTarget), "", false});
  CHECK(catch_error([&] { s.update_customer(other); }).code() == ErrorCode::suppressed);
  PurchaseImport back;
  back.currency = "USD";
  back.customer_external_id = {"ext-" + num4(kTarget)};
  back.at = {Timestamp::from_seconds(1)};
  back.amount = {"1.00"};
  auto imp = catch_error([&] { s.import_purchases(back); });
  CHECK(imp.code() == ErrorCode::suppressed);
  CHECK(std::string(imp.what()) ==
        "rows[0].customer_external_id: 'ext-1234' belongs to an erased customer");
  CHECK(s.count_customers() == before);
  CHECK(s.summary().revenue == revenue);

  // Erasing again is a no-op; an erased customer cannot be restored.
  EraseReport z = s.erase_customer(target);
  CHECK(z.events_scrubbed == 0);
  CHECK(z.audit_entries_scrubbed == 0);
  CHECK(z.suppression_hashes == 0);
  CHECK(s.audit_log(target).size() == 4);
  s.delete_customer(target);
  auto restore = catch_error([&] { s.restore_customer(target); });
  CHECK(restore.code() == ErrorCode::conflict);
  CHECK(std::string(restore.what()) == "customer: customer 1235 is erased and cannot be restored");
  Customer upd = s.get_customer(target);
  CHECK(catch_error([&] { s.update_customer(upd); }).code() == ErrorCode::conflict);
}

TEST_CASE("erasure in a memory store drops personal custom fields and titles", "[store][erase]") {
  StoreOptions opts;
  opts.currency = "USD";
  Store s = Store::open(":memory:", opts);
  FieldDef nick;
  nick.name = "nickname";
  nick.personal = true;
  s.declare_field(nick);
  FieldDef segment;
  segment.name = "segment";
  s.declare_field(segment);
  Customer org;
  org.external_id = "org";
  org.name = "Acme";
  org.kind = CustomerKind::organisation;
  org = s.create_customer(org);
  Customer c = make(7);
  c.custom["nickname"] = std::string("Quill");
  c.custom["segment"] = std::string("smb");
  c.memberships.push_back({org.id, {BuyingRole::power_holder}, RelationshipLevel::ally, "CFO"});
  c.tags = {"vip"};
  c = s.create_customer(c);
  s.erase_customer(c.id);
  Customer e = s.get_customer(c.id);
  CHECK(e.custom.count("nickname") == 0);
  CHECK(std::get<std::string>(e.custom.at("segment")) == "smb");
  REQUIRE(e.memberships.size() == 1);
  CHECK(e.memberships[0].title.empty());
  CHECK(e.memberships[0].organisation == org.id);
  CHECK(e.tags == std::vector<std::string>{"vip"});
  CHECK(e.kind == CustomerKind::person);
  std::ostringstream out;
  s.export_jsonl(out);
  CHECK(out.str().find("Quill") == std::string::npos);
  CHECK(out.str().find("CFO") == std::string::npos);
}

TEST_CASE("erasure suppresses every contact the customer ever had and leaves none in the file",
          "[store][erase]") {
  TempDir tmp("erase-history");
  const std::string path = tmp.file("crm.db");
  const std::vector<std::string> emails = {"vesna.first@history.example",
                                           "vesna.second@history.example",
                                           "vesna.third@history.example"};
  const std::vector<std::string> phones = {"+4915550007711", "+4915550007722"};
  const std::vector<std::string> ids = {"hist-vesna-old", "hist-vesna-new"};
  StoreOptions opts = usd();
  opts.synchronous = SyncMode::off;
  Money revenue, net;
  CustomerId target = 0;
  {
    Store s = Store::open(path, opts);
    const Customer n = s.create_customer(
        person("hist-neighbour", "Nora Neighbour", "nora@history.example", "+4915550007799"));
    Customer v = s.create_customer(person(ids[0], "Vesna Verlauf", emails[0], phones[0]));
    target = v.id;
    const EventId p = s.append_event(purchase_event(v.id, "40.00", "2024-01-05T09:00:00Z")).id;
    s.append_event(refund_event(v.id, p, "5.00", "2024-01-06T09:00:00Z"));
    s.append_event(purchase_event(n.id, "7.25", "2024-01-07T09:00:00Z"));
    // The e-mail changes twice, the phone once, the external id once.
    v.contacts[0].value = emails[1];
    v = s.update_customer(v);
    v.contacts[0].value = emails[2];
    v = s.update_customer(v);
    v.contacts[1].value = phones[1];
    v = s.update_customer(v);
    v.external_id = ids[1];
    v = s.update_customer(v);
    revenue = s.summary().revenue;
    net = s.summary().net_revenue;
    CHECK(revenue == m("47.25"));
    CHECK(net == m("42.25"));

    const EraseReport r = s.erase_customer(target);
    CHECK(r.suppression_hashes == 7);      // 2 external ids, 3 e-mails, 2 phones
    CHECK(r.audit_entries_scrubbed == 5);  // create, 3 contact updates, 1 external id update
    CHECK(r.wal_truncated);

    // Each old contact is suppressed: nobody may take it.
    for (const auto& e : emails) {
      INFO(e);
      CHECK(s.is_suppressed("", e));
      CHECK_ERROR(s.create_customer(person("new-" + e, "Someone", e)), ErrorCode::suppressed,
                  "customer.contacts[0].value: this e-mail belongs to an erased customer");
    }
    for (const auto& ph : phones) {
      INFO(ph);
      CHECK(s.is_suppressed("", "", ph));
      CHECK_ERROR(s.create_customer(person("new-" + ph, "Someone", "", ph)),
                  ErrorCode::suppressed,
                  "customer.contacts[0].value: this phone belongs to an erased customer");
    }
    for (const auto& id : ids) {
      INFO(id);
      CHECK(s.is_suppressed(id));
      CHECK_ERROR(s.create_customer(person(id)), ErrorCode::suppressed,
                  "customer.external_id: '" + id + "' belongs to an erased customer");
    }
    CHECK_FALSE(s.is_suppressed("hist-neighbour", "nora@history.example", "+4915550007799"));

    // The audit log keeps what happened, not the values.
    const auto log = s.audit_log(target);
    REQUIRE(log.size() == 6);
    for (const auto& a : log) {
      CHECK(a.old_value.empty());
      CHECK(a.new_value.empty());
    }
    CHECK(log[1].field == "contacts");
    CHECK(log[4].field == "external_id");
    CHECK(log[5].action == "erase");

    // Aggregates unchanged.
    CHECK(s.summary().revenue == revenue);
    CHECK(s.summary().net_revenue == net);
    CHECK(s.summary().customers == 2);
    CHECK(s.count_events() == 3);

    // No byte of them in the file or the WAL while the store is open ...
    const std::string db = read_bytes(path);
    const std::string wal = fs::exists(path + "-wal") ? read_bytes(path + "-wal") : std::string();
    CHECK(db.find("nora@history.example") != std::string::npos);
    for (const auto* list : {&emails, &phones, &ids})
      for (const auto& needle : *list) {
        INFO(needle);
        CHECK(db.find(needle) == std::string::npos);
        CHECK(wal.find(needle) == std::string::npos);
      }
  }
  // ... nor after close.
  const std::string db = read_bytes(path);
  REQUIRE(db.size() > 4096);
  CHECK(db.find("nora@history.example") != std::string::npos);
  CHECK(db.find("Vesna") == std::string::npos);
  for (const auto* list : {&emails, &phones, &ids})
    for (const auto& needle : *list) {
      INFO(needle);
      CHECK(db.find(needle) == std::string::npos);
    }
}
