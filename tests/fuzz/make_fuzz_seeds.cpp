// Writes the store-derived seeds of the fuzz corpora (tests/fuzz/corpus/): the export of the
// fixture store tests/data/store_v3.crmkit (opened from a copy, so migrated to the current
// schema) as a whole and cut after each section, and each of its customer and event objects on
// its own. Built in build/fuzz (target make_fuzz_seeds) but not run by scripts/sanitize: run by
// hand when the export format changes (tests/fuzz/README.md):
//   build/fuzz/tests/fuzz/make_fuzz_seeds tests/data/store_v3.crmkit tests/fuzz/corpus
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "crmkit/crmkit.hpp"

using namespace crmkit;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: make_fuzz_seeds <store_v3.crmkit> <corpus folder>\n";
    return 2;
  }
  const fs::path corpus = argv[2];
  const fs::path copy = fs::temp_directory_path() / "crmkit_make_fuzz_seeds.crmkit";
  fs::remove(copy);
  fs::copy_file(argv[1], copy);
  std::string text;
  {
    Store store = Store::open(copy.string());
    std::ostringstream out;
    store.export_jsonl(out);
    text = out.str();
  }
  fs::remove(copy);
  write(corpus / "import_jsonl" / "store_v3_export", text);

  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  // The export cut after each section: header only, + fields, + customers, + events, ...
  std::string prefix;
  std::string last_kind;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const nlohmann::json j = nlohmann::json::parse(lines[i]);
    const std::string kind = i == 0 ? "header" : j.begin().key();
    if (i > 0 && kind != last_kind) write(corpus / "import_jsonl" / ("store_v3_cut_before_" + kind), prefix);
    prefix += lines[i] + "\n";
    last_kind = kind;
    if (kind == "customer") {
      write(corpus / "customer_json" / ("store_v3_customer_" + std::to_string(j["customer"]["id"].get<long long>())),
            j["customer"].dump());
    } else if (kind == "event") {
      write(corpus / "event_json" / ("store_v3_event_" + std::to_string(j["event"]["id"].get<long long>())),
            j["event"].dump());
    }
  }
  std::printf("%zu lines, %zu bytes\n", lines.size(), text.size());
  return 0;
}
