// Private: the default machines' JSON texts, generated into default_machines.cpp from
// data/machines/*.json by core/CMakeLists.txt (sorted by name).
#pragma once

#include <cstddef>

namespace crmkit {
inline namespace v0 {
namespace detail {

struct DefaultMachineText {
  const char* name;
  const char* json;
};
extern const DefaultMachineText kDefaultMachineTexts[];
extern const std::size_t kDefaultMachineCount;

}  // namespace detail
}  // namespace v0
}  // namespace crmkit
