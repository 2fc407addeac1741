// Tests for crmkit/base/json.hpp: strict parsing of untrusted JSON.
#include <catch2/catch.hpp>

#include <string>

#include "crmkit/base/error.hpp"
#include "crmkit/base/json.hpp"
#include "support.hpp"

using crmkit::Error;
using crmkit::ErrorCode;
using crmkit::JsonLimits;
using crmkit::parse_json_strict;
using crmkit::test::catch_error;

namespace {

std::string nested_arrays(int depth) {
  return std::string(static_cast<std::size_t>(depth), '[') +
         std::string(static_cast<std::size_t>(depth), ']');
}

std::string nested_objects(int depth) {
  std::string out;
  for (int i = 0; i < depth; ++i) out += "{\"a\":";
  out += "1";
  out += std::string(static_cast<std::size_t>(depth), '}');
  return out;
}

bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

TEST_CASE("parse_json_strict parses well-formed documents") {
  const nlohmann::json j = parse_json_strict(
      R"({"name":"Ada","tags":["vip","b2b"],"score":4.5,"n":-3,"ok":true,"none":null,)"
      R"("nested":{"name":"inner"},"list":[{"name":1},{"name":2}],"text":"caf\u00e9 \u4e2d"})");
  CHECK(j.at("name") == "Ada");
  CHECK(j.at("tags").size() == 2);
  CHECK(j.at("score") == 4.5);
  CHECK(j.at("n") == -3);
  CHECK(j.at("ok") == true);
  CHECK(j.at("none").is_null());
  CHECK(j.at("nested").at("name") == "inner");
  CHECK(j.at("list").at(1).at("name") == 2);
  CHECK(j.at("text") == "caf\xc3\xa9 \xe4\xb8\xad");
  CHECK(parse_json_strict("  42 ") == 42);
  CHECK(parse_json_strict("\"x\"") == "x");
  CHECK(parse_json_strict("[]").is_array());
  CHECK(parse_json_strict("{}").is_object());
}

TEST_CASE("parse_json_strict refuses a duplicate key naming it") {
  Error e = catch_error([] { parse_json_strict(R"({"email":"a@x","email":"b@x"})", "customer"); });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e.what()) == "customer: duplicate key 'email' in one JSON object");
  Error inner = catch_error([] { parse_json_strict(R"({"a":{"b":1,"c":2,"b":3}})"); });
  CHECK(std::string(inner.what()) == "json: duplicate key 'b' in one JSON object");
  Error in_array = catch_error([] { parse_json_strict(R"([{"k":1},{"k":2,"k":3}])"); });
  CHECK(std::string(in_array.what()) == "json: duplicate key 'k' in one JSON object");
}

TEST_CASE("parse_json_strict allows the same key in different objects") {
  const nlohmann::json j =
      parse_json_strict(R"({"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}],"c":{"b":1}})");
  CHECK(j.at("a").at("a").at("a") == 1);
  CHECK(j.at("b").at(1).at("a") == 2);
}

TEST_CASE("parse_json_strict accepts nesting up to max_depth and refuses one more") {
  CHECK(parse_json_strict(nested_arrays(32)).is_array());
  CHECK(parse_json_strict(nested_objects(32)).is_object());
  Error arrays = catch_error([] { parse_json_strict(nested_arrays(33), "event"); });
  CHECK(arrays.code() == ErrorCode::invalid_argument);
  CHECK(std::string(arrays.what()) == "event: JSON nesting is deeper than 32 levels");
  Error objects = catch_error([] { parse_json_strict(nested_objects(33)); });
  CHECK(std::string(objects.what()) == "json: JSON nesting is deeper than 32 levels");
  // Depth is the nesting of containers, not their count.
  CHECK(parse_json_strict("[" + nested_arrays(31) + "," + nested_arrays(31) + "]").size() == 2);
  // A very deep document is refused without exhausting the stack.
  CHECK(catch_error([] { parse_json_strict(nested_arrays(100000)); }).code() ==
        ErrorCode::invalid_argument);
  JsonLimits tight;
  tight.max_depth = 2;
  CHECK(parse_json_strict("[[1]]", "json", tight).size() == 1);
  CHECK(std::string(catch_error([&] { parse_json_strict("[[[1]]]", "json", tight); }).what()) ==
        "json: JSON nesting is deeper than 2 levels");
}

TEST_CASE("parse_json_strict refuses text longer than max_bytes before parsing") {
  JsonLimits limits;
  limits.max_bytes = 10;
  CHECK(parse_json_strict("[1,2,3,44]", "json", limits).size() == 4);
  Error e = catch_error([&] { parse_json_strict("[1,2,3,444]", "import", limits); });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(std::string(e.what()) == "import: JSON text is 11 bytes, over the limit of 10");
}

TEST_CASE("parse_json_strict refuses invalid UTF-8") {
  const std::string bad[] = {
      std::string("{\"name\":\"\xff\"}"),          // never valid in UTF-8
      std::string("{\"name\":\"\xc3\"}"),          // truncated sequence
      std::string("{\"name\":\"\xc0\xaf\"}"),      // overlong encoding of '/'
      std::string("{\"name\":\"\xed\xa0\x80\"}"),  // encoded surrogate U+D800
      std::string("{\"name\":\"\xf4\x90\x80\x80\"}"),  // above U+10FFFF
      std::string("{\"name\":\"\\ud800\"}"),       // unpaired surrogate escape
      std::string("{\"\xfe\":1}"),                 // in a key
  };
  for (const std::string& text : bad) {
    INFO(text);
    Error e = catch_error([&] { parse_json_strict(text, "customer"); });
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK(starts_with(e.what(), "customer: malformed JSON at byte "));
  }
  Error first = catch_error([] { parse_json_strict("{\"name\":\"\xff\"}"); });
  CHECK(std::string(first.what()) ==
        "json: malformed JSON at byte 10: syntax error while parsing value - invalid string: "
        "ill-formed UTF-8 byte; last read: '\"\xff'");
}

TEST_CASE("parse_json_strict refuses malformed JSON saying where") {
  const std::string bad[] = {"",          "{",           "[1,2",         "{\"a\" 1}",
                             "{'a':1}",   "[1,]",        "{\"a\":1,}",   "nul",
                             "01",        "1 2",         "NaN",          "[Infinity]",
                             "\"a\tb\"",  "// c\n1",     std::string("[1]\0", 4),
                             "{\"a\":1}x", "\"unterminated"};
  for (const std::string& text : bad) {
    INFO(text);
    Error e = catch_error([&] { parse_json_strict(text, "event"); });
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK(starts_with(e.what(), "event: malformed JSON"));
  }
  CHECK(std::string(catch_error([] { parse_json_strict("[1,]"); }).what()) ==
        "json: malformed JSON at byte 4: syntax error while parsing value - unexpected ']'; "
        "expected '[', '{', or a literal");
  CHECK(std::string(catch_error([] { parse_json_strict(std::string("[1]\0[2]", 7)); }).what()) ==
        "json: malformed JSON at byte 4: NUL byte in the text");
  CHECK(std::string(catch_error([] { parse_json_strict(""); }).what()) ==
        "json: malformed JSON at byte 1: syntax error while parsing value - unexpected "
        "end of input; expected '[', '{', or a literal");
}

TEST_CASE("parse_json_strict refuses numbers too large for a double") {
  Error e = catch_error([] { parse_json_strict("[1e400]"); });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(starts_with(e.what(), "json: malformed JSON"));
  CHECK(std::string(e.what()).find("1e400") != std::string::npos);
}
