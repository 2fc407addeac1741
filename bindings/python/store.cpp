// The embedded store (store.hpp). Every method converts its arguments, releases the GIL for the
// crmkit call, and converts the result back. Write methods take the WriteContext as the keyword
// arguments actor= and source=.
#include <filesystem>
#include <string>

#include "conversions.hpp"

namespace crmkit_py {

namespace {

using crmkit::Store;
using crmkit::WriteContext;
using release = py::call_guard<py::gil_scoped_release>;

WriteContext ctx(const TextArg<"actor">& actor, const TextArg<"source">& source) {
  return WriteContext{actor, source};
}

crmkit::SyncMode sync_mode_from_py(py::handle value) {
  if (py::isinstance<py::str>(value)) {
    std::string name = py::str(value);
    for (crmkit::SyncMode mode :
         {crmkit::SyncMode::full, crmkit::SyncMode::normal, crmkit::SyncMode::off}) {
      if (name == std::string(py::str(py::cast(mode).attr("name")))) return mode;
    }
    crmkit::throw_invalid("synchronous",
                          "unknown mode '" + name + "' (expected full, normal or off)");
  }
  return value.cast<crmkit::SyncMode>();
}

std::string currency_code_from_py(py::handle value) {
  if (value.is_none()) return {};
  if (py::isinstance<crmkit::Currency>(value)) {
    return std::string(value.cast<const crmkit::Currency&>().code());
  }
  return text_from_py(value, "currency");
}

// StoreOptions::suppression_key from Python: bytes (or bytearray, memoryview), or None for the
// in-file default. Text is refused: a key is 32 raw bytes (bytes.fromhex(...) for a hex secret).
std::string key_from_py(py::handle value) {
  if (value.is_none()) return {};
  if (py::isinstance<py::bytes>(value)) return std::string(value.cast<py::bytes>());
  if (py::isinstance<py::bytearray>(value) || py::isinstance<py::memoryview>(value))
    return std::string(py::module_::import("builtins").attr("bytes")(value).cast<py::bytes>());
  crmkit::throw_invalid("suppression_key",
                        "expected 32 bytes (bytes), got " +
                            std::string(py::str(value.get_type().attr("__name__"))));
}

Store open_store(const std::filesystem::path& path, py::handle currency, py::handle synchronous,
                 IntArg<"busy_timeout_ms", int> busy_timeout_ms, bool create_if_missing,
                 bool read_only, const TextArg<"actor">& actor,
                 IntArg<"max_readers", std::size_t> max_readers, py::handle suppression_key) {
  crmkit::StoreOptions options;
  options.currency = currency_code_from_py(currency);
  options.synchronous = sync_mode_from_py(synchronous);
  options.busy_timeout_ms = busy_timeout_ms;
  options.create_if_missing = create_if_missing;
  options.read_only = read_only;
  options.actor = actor;
  options.max_readers = max_readers;
  options.suppression_key = key_from_py(suppression_key);
  std::string p = path.string();
  py::gil_scoped_release unlocked;
  return Store::open(p, options);
}

}  // namespace

void bind_store(py::module_& m) {
  using namespace crmkit;

  py::enum_<SyncMode>(m, "SyncMode")
      .value("full", SyncMode::full)
      .value("normal", SyncMode::normal)
      .value("off", SyncMode::off);

  py::class_<StoreOptions> options(m, "StoreOptions");
  def_field(options, "currency", &StoreOptions::currency);
  def_field(options, "synchronous", &StoreOptions::synchronous);
  def_field(options, "busy_timeout_ms", &StoreOptions::busy_timeout_ms);
  def_field(options, "create_if_missing", &StoreOptions::create_if_missing);
  def_field(options, "read_only", &StoreOptions::read_only);
  def_field(options, "actor", &StoreOptions::actor);
  def_field(options, "max_readers", &StoreOptions::max_readers);
  finish_struct(options, {"currency", "synchronous", "busy_timeout_ms", "create_if_missing",
                          "read_only", "actor", "max_readers"});
  // bytes, and left out of the struct's repr and keyword constructor so it is never printed.
  options.def_property(
      "suppression_key",
      [](const StoreOptions& o) { return py::bytes(o.suppression_key); },
      [](StoreOptions& o, py::handle value) { o.suppression_key = key_from_py(value); });

  py::class_<WriteContext> write_ctx(m, "WriteContext");
  def_field(write_ctx, "actor", &WriteContext::actor);
  def_field(write_ctx, "source", &WriteContext::source);
  finish_struct(write_ctx, {"actor", "source"});

  py::class_<AuditEntry> audit(m, "AuditEntry");
  def_field(audit, "id", &AuditEntry::id);
  def_field(audit, "at", &AuditEntry::at);
  def_field(audit, "actor", &AuditEntry::actor);
  def_field(audit, "source", &AuditEntry::source);
  def_field(audit, "entity", &AuditEntry::entity);
  def_field(audit, "entity_id", &AuditEntry::entity_id);
  def_field(audit, "action", &AuditEntry::action);
  def_field(audit, "field", &AuditEntry::field);
  def_field(audit, "old_value", &AuditEntry::old_value);
  def_field(audit, "new_value", &AuditEntry::new_value);
  finish_struct(audit, {"id", "at", "actor", "source", "entity", "entity_id", "action", "field",
                        "old_value", "new_value"});

  py::class_<PurchaseColumns> columns(
      m, "PurchaseColumns",
      "Columns of every purchase, as read-only numpy arrays viewing the C++ vectors (no copy).");
  columns.def_property_readonly("currency", [](const PurchaseColumns& c) { return c.currency; })
      .def_property_readonly("event_id",
                             [](py::handle s) {
                               return column_view(s, s.cast<const PurchaseColumns&>().event_id);
                             })
      .def_property_readonly("customer_id",
                             [](py::handle s) {
                               return column_view(s, s.cast<const PurchaseColumns&>().customer_id);
                             })
      .def_property_readonly("at_micros",
                             [](py::handle s) {
                               return column_view(s, s.cast<const PurchaseColumns&>().at_micros);
                             })
      .def_property_readonly("amount_minor",
                             [](py::handle s) {
                               return column_view(s, s.cast<const PurchaseColumns&>().amount_minor);
                             })
      .def_property_readonly(
          "refunded_minor",
          [](py::handle s) {
            return column_view(s, s.cast<const PurchaseColumns&>().refunded_minor);
          })
      .def_property_readonly("item_count",
                             [](py::handle s) {
                               return column_view(s, s.cast<const PurchaseColumns&>().item_count);
                             })
      .def_property_readonly("essential",
                             [](py::handle s) {
                               // 1-byte values 0/1: viewed as numpy bool without a copy.
                               return column_view(s, s.cast<const PurchaseColumns&>().essential,
                                                  "bool");
                             })
      .def("__len__", [](const PurchaseColumns& c) { return c.event_id.size(); })
      .def("__repr__", [](const PurchaseColumns& c) {
        return "PurchaseColumns(" + std::to_string(c.event_id.size()) + " purchases, " +
               std::string(c.currency.code()) + ")";
      });

  py::class_<ReferralColumns> referrals(
      m, "ReferralColumns",
      "Columns of every referral event, as read-only numpy arrays viewing the C++ vectors.");
  referrals
      .def_property_readonly("event_id",
                             [](py::handle s) {
                               return column_view(s, s.cast<const ReferralColumns&>().event_id);
                             })
      .def_property_readonly("referrer",
                             [](py::handle s) {
                               return column_view(s, s.cast<const ReferralColumns&>().referrer);
                             })
      .def_property_readonly("referred",
                             [](py::handle s) {
                               return column_view(s, s.cast<const ReferralColumns&>().referred);
                             })
      .def_property_readonly("at_micros",
                             [](py::handle s) {
                               return column_view(s, s.cast<const ReferralColumns&>().at_micros);
                             })
      .def("__len__", [](const ReferralColumns& c) { return c.event_id.size(); })
      .def("__repr__", [](const ReferralColumns& c) {
        return "ReferralColumns(" + std::to_string(c.event_id.size()) + " referrals)";
      });

  py::class_<crmkit::CustomerKeys> keys(
      m, "CustomerKeys",
      "Every customer's id (a read-only int64 numpy array viewing the C++ vector) and external "
      "id (a list of str), in id order.");
  keys.def_property_readonly("customer_id",
                             [](py::handle s) {
                               const auto& k = s.cast<const crmkit::CustomerKeys&>();
                               return column_view(s, k.customer_id);
                             })
      .def_property_readonly(
          "external_id",
          [](const crmkit::CustomerKeys& k) { return texts_to_py(k.external_id); })
      .def("__len__", [](const crmkit::CustomerKeys& k) { return k.size(); })
      .def("__repr__", [](const crmkit::CustomerKeys& k) {
        return "CustomerKeys(" + std::to_string(k.size()) + " customers)";
      });

  py::class_<PurchaseImport> import(m, "PurchaseImport",
                                    "Column-wise purchases for Store.import_purchases.");
  def_field(import, "currency", &PurchaseImport::currency);
  def_field(import, "customer_external_id", &PurchaseImport::customer_external_id);
  def_field(import, "at", &PurchaseImport::at);
  def_field(import, "amount", &PurchaseImport::amount);
  def_field(import, "order_id", &PurchaseImport::order_id);
  def_field(import, "category", &PurchaseImport::category);
  def_field(import, "item_count", &PurchaseImport::item_count);
  def_field(import, "idempotency_key", &PurchaseImport::idempotency_key);
  def_field(import, "source", &PurchaseImport::source);
  def_field(import, "create_missing_customers", &PurchaseImport::create_missing_customers);
  finish_struct(import, {"currency", "customer_external_id", "at", "amount", "order_id",
                         "category", "item_count", "idempotency_key", "source",
                         "create_missing_customers"});
  import.def(
      "_set_at_micros",
      [](PurchaseImport& rows, const py::array_t<std::int64_t, py::array::c_style |
                                                                   py::array::forcecast>& micros) {
        auto view = micros.unchecked<1>();
        std::vector<Timestamp> at;
        at.reserve(static_cast<std::size_t>(view.shape(0)));
        for (py::ssize_t i = 0; i < view.shape(0); ++i) at.emplace_back(view(i));
        rows.at = std::move(at);
      },
      py::arg("micros"), "Sets `at` from int64 microseconds since the epoch (the bulk path).");

  py::class_<ImportReport> report(m, "ImportReport");
  def_field(report, "rows", &ImportReport::rows);
  def_field(report, "purchases_added", &ImportReport::purchases_added);
  def_field(report, "duplicates_skipped", &ImportReport::duplicates_skipped);
  def_field(report, "customers_created", &ImportReport::customers_created);
  finish_struct(report, {"rows", "purchases_added", "duplicates_skipped", "customers_created"});

  py::class_<StoreSummary> summary(m, "StoreSummary");
  def_field(summary, "customers", &StoreSummary::customers);
  def_field(summary, "deleted_customers", &StoreSummary::deleted_customers);
  def_field(summary, "events", &StoreSummary::events);
  def_field(summary, "purchases", &StoreSummary::purchases);
  def_field(summary, "refunds", &StoreSummary::refunds);
  def_field(summary, "revenue", &StoreSummary::revenue);
  def_field(summary, "refunded", &StoreSummary::refunded);
  def_field(summary, "net_revenue", &StoreSummary::net_revenue);
  finish_struct(summary, {"customers", "deleted_customers", "events", "purchases", "refunds",
                          "revenue", "refunded", "net_revenue"});

  py::class_<EraseReport> erase(m, "EraseReport");
  def_field(erase, "customer", &EraseReport::customer);
  def_field(erase, "events_scrubbed", &EraseReport::events_scrubbed);
  def_field(erase, "audit_entries_scrubbed", &EraseReport::audit_entries_scrubbed);
  def_field(erase, "suppression_hashes", &EraseReport::suppression_hashes);
  def_field(erase, "wal_truncated", &EraseReport::wal_truncated);
  finish_struct(erase, {"customer", "events_scrubbed", "audit_entries_scrubbed",
                        "suppression_hashes", "wal_truncated"});

  py::class_<Store> store(m, "Store",
                          "The embedded store. Store(path, currency=None, *, synchronous='full', "
                          "busy_timeout_ms=5000, create_if_missing=True, read_only=False, "
                          "actor='system', max_readers=4, suppression_key=None); ':memory:' "
                          "for a private store. suppression_key: 32 bytes kept by the host "
                          "(never in the file or an export), or None for the in-file default. A "
                          "context manager: leaving the with-block closes it.");
  store
      .def(py::init(&open_store), py::arg("path"), py::arg("currency") = py::none(),
           py::kw_only(), py::arg("synchronous") = SyncMode::full,
           py::arg("busy_timeout_ms") = 5000, py::arg("create_if_missing") = true,
           py::arg("read_only") = false, py::arg("actor") = "system", py::arg("max_readers") = 4,
           py::arg("suppression_key") = py::none())
      .def_static("open", &open_store, py::arg("path"), py::arg("currency") = py::none(),
                  py::kw_only(), py::arg("synchronous") = SyncMode::full,
                  py::arg("busy_timeout_ms") = 5000, py::arg("create_if_missing") = true,
                  py::arg("read_only") = false, py::arg("actor") = "system",
                  py::arg("max_readers") = 4, py::arg("suppression_key") = py::none())
      .def("__enter__", [](py::handle self) { return py::reinterpret_borrow<py::object>(self); })
      .def("__exit__",
           [](Store& s, py::handle, py::handle, py::handle) {
             s.close();
             return false;
           },
           py::arg("exc_type"), py::arg("exc_value"), py::arg("traceback"))
      .def_property_readonly("path", [](const Store& s) { return s.path(); })
      .def_property_readonly("currency", [](const Store& s) { return s.currency(); })
      .def("schema_version", &Store::schema_version, release())
      .def_static("current_schema_version", &Store::current_schema_version)
      // ---- custom-field schema ----
      .def("declare_field",
           [](Store& s, const FieldDef& def, const TextArg<"actor">& actor, const TextArg<"source">& source) {
             s.declare_field(def, ctx(actor, source));
           },
           py::arg("definition"), py::kw_only(), py::arg("actor") = "", py::arg("source") = "",
           release())
      .def("fields", &Store::fields, release())
      // ---- customers ----
      .def("create_customer",
           [](Store& s, const Customer& c, const TextArg<"actor">& actor, const TextArg<"source">& source) {
             return s.create_customer(c, ctx(actor, source));
           },
           py::arg("customer"), py::kw_only(), py::arg("actor") = "", py::arg("source") = "",
           release())
      .def("get_or_create_customer",
           [](Store& s, const Customer& c, const TextArg<"actor">& actor, const TextArg<"source">& source) {
             GetOrCreateResult r = s.get_or_create_customer(c, ctx(actor, source));
             return std::make_pair(std::move(r.customer), r.created);
           },
           py::arg("customer"), py::kw_only(), py::arg("actor") = "", py::arg("source") = "",
           release())
      .def("get_customer",
           [](const Store& s, IntArg<"id", CustomerId> id) { return s.get_customer(id); },
           py::arg("id"), release())
      .def("get_customer_by_external_id",
           [](const Store& s, const std::string& v) { return s.get_customer_by_external_id(v); },
           py::arg("external_id"), release())
      .def("get_customer_by_email",
           [](const Store& s, const std::string& v) { return s.get_customer_by_email(v); },
           py::arg("email"), release())
      .def("get_customer_by_phone",
           [](const Store& s, const std::string& v) { return s.get_customer_by_phone(v); },
           py::arg("phone"), release())
      .def("find_customer_by_external_id",
           [](const Store& s, const std::string& v) { return s.find_customer_by_external_id(v); },
           py::arg("external_id"), release())
      .def("list_customers", &Store::list_customers, py::arg("include_deleted") = false, release())
      .def("count_customers", &Store::count_customers, py::arg("include_deleted") = false,
           release())
      .def("update_customer",
           [](Store& s, const Customer& c, const TextArg<"actor">& actor, const TextArg<"source">& source) {
             return s.update_customer(c, ctx(actor, source));
           },
           py::arg("customer"), py::kw_only(), py::arg("actor") = "", py::arg("source") = "",
           release())
      .def("set_consent",
           [](Store& s, IntArg<"id", CustomerId> id, const Consent& c, const TextArg<"actor">& actor,
              const TextArg<"source">& source) { return s.set_consent(id, c, ctx(actor, source)); },
           py::arg("id"), py::arg("consent"), py::kw_only(), py::arg("actor") = "",
           py::arg("source") = "", release())
      .def("delete_customer",
           [](Store& s, IntArg<"id", CustomerId> id, const TextArg<"actor">& actor,
              const TextArg<"source">& source) {
             s.delete_customer(id, ctx(actor, source));
           },
           py::arg("id"), py::kw_only(), py::arg("actor") = "", py::arg("source") = "", release())
      .def("restore_customer",
           [](Store& s, IntArg<"id", CustomerId> id, const TextArg<"actor">& actor,
              const TextArg<"source">& source) {
             s.restore_customer(id, ctx(actor, source));
           },
           py::arg("id"), py::kw_only(), py::arg("actor") = "", py::arg("source") = "", release())
      // ---- events ----
      .def("append_event",
           [](Store& s, const Event& e, const TextArg<"actor">& actor, const TextArg<"source">& source) {
             return s.append_event(e, ctx(actor, source));
           },
           py::arg("event"), py::kw_only(), py::arg("actor") = "", py::arg("source") = "",
           release())
      .def("append_events",
           [](Store& s, const std::vector<Event>& events, const TextArg<"actor">& actor,
              const TextArg<"source">& source) {
             return s.append_events(std::span<const Event>(events), ctx(actor, source));
           },
           py::arg("events"), py::kw_only(), py::arg("actor") = "", py::arg("source") = "",
           release())
      .def("get_event", [](const Store& s, IntArg<"id", EventId> id) { return s.get_event(id); },
           py::arg("id"), release())
      .def("events_of",
           [](const Store& s, IntArg<"customer", CustomerId> c) { return s.events_of(c); },
           py::arg("customer"), release())
      .def("count_events", &Store::count_events, release())
      .def("refundable_amount",
           [](const Store& s, IntArg<"purchase", EventId> p) { return s.refundable_amount(p); },
           py::arg("purchase"), release())
      // ---- bulk and analytics ----
      .def("import_purchases",
           [](Store& s, const PurchaseImport& rows, const TextArg<"actor">& actor,
              const TextArg<"source">& source) { return s.import_purchases(rows, ctx(actor, source)); },
           py::arg("rows"), py::kw_only(), py::arg("actor") = "", py::arg("source") = "",
           release())
      .def("purchase_columns", &Store::purchase_columns, release())
      .def("referral_columns", &Store::referral_columns, release())
      .def("summary", &Store::summary, release())
      .def("customer_keys", &Store::customer_keys, release())
      // ---- audit, erasure, suppression ----
      .def("audit_log",
           [](const Store& s, IntArg<"customer", CustomerId> c) { return s.audit_log(c); },
           py::arg("customer") = 0, release())
      .def("erase_customer",
           [](Store& s, IntArg<"id", CustomerId> id, const TextArg<"actor">& actor,
              const TextArg<"source">& source) {
             return s.erase_customer(id, ctx(actor, source));
           },
           py::arg("id"), py::kw_only(), py::arg("actor") = "", py::arg("source") = "", release())
      .def("is_suppressed",
           [](const Store& s, const std::string& external_id, const std::string& email,
              const std::string& phone) { return s.is_suppressed(external_id, email, phone); },
           py::arg("external_id"), py::arg("email") = "", py::arg("phone") = "", release())
      // ---- whole-store export and import ----
      .def("export_jsonl",
           [](const Store& s, const std::filesystem::path& path) { s.export_jsonl(path.string()); },
           py::arg("path"), release())
      .def("import_jsonl",
           [](Store& s, const std::filesystem::path& path) { s.import_jsonl(path.string()); },
           py::arg("path"), release())
      .def("checkpoint", &Store::checkpoint, release())
      .def("close", &Store::close, release())
      .def("is_closed", &Store::is_closed)
      .def("__repr__", [](const Store& s) {
        if (s.is_closed()) return std::string("Store(closed)");
        return "Store('" + s.path() + "', '" + std::string(s.currency().code()) + "')";
      });
}

}  // namespace crmkit_py
