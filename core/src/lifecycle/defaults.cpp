// The default machines (crmkit/lifecycle/defaults.hpp), from the texts generated into
// default_machines.cpp.
#include "crmkit/lifecycle/defaults.hpp"

#include <map>

#include "base/text.hpp"
#include "crmkit/base/error.hpp"
#include "lifecycle/default_machines_table.hpp"

namespace crmkit {
inline namespace v0 {

namespace {
const std::map<std::string, std::string, std::less<>>& texts() {
  static const auto* table = [] {
    auto* m = new std::map<std::string, std::string, std::less<>>();
    for (std::size_t i = 0; i < detail::kDefaultMachineCount; ++i)
      m->emplace(detail::kDefaultMachineTexts[i].name, detail::kDefaultMachineTexts[i].json);
    return m;
  }();
  return *table;
}
}  // namespace

std::vector<std::string> default_machine_names() {
  std::vector<std::string> out;
  for (const auto& [name, text] : texts()) out.push_back(name);
  return out;
}

const std::string& default_machine_json(std::string_view name) {
  const auto it = texts().find(name);
  if (it == texts().end()) {
    std::string list;
    for (const auto& n : default_machine_names()) list += (list.empty() ? "" : ", ") + n;
    throw_error(ErrorCode::not_found, "machine",
                "no default machine " + detail::quote_text(name) + " (there are: " + list + ")");
  }
  return it->second;
}

Machine default_machine(std::string_view name, const FactSchema& facts, const MachineOptions& options) {
  return Machine::from_json_text(default_machine_json(name), facts, options);
}

}  // namespace v0
}  // namespace crmkit
