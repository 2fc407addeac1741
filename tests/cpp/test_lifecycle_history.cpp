// Reporting over transition history (crmkit/lifecycle/history.hpp): small hand-checked cases.
#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "crmkit/crmkit.hpp"

using namespace crmkit;

namespace {

Timestamp day(std::int64_t d) { return Timestamp(d * 86'400'000'000LL); }

// States: 0 p, 1 a, 2 b, 3 c. Three entities, rows given out of order:
//   entity 1: created in p on day 0, p->a day 10, a->b day 15, b->a day 40, a->c day 50
//   entity 2: created in p on day 5, then p->a and a->b on day 5 too (one automatic chain)
//   entity 3: created in p on day 20
struct Rows {
  std::vector<std::int64_t> entity{3, 1, 2, 1, 2, 1, 1, 2, 1};
  std::vector<std::int32_t> from{-1, 1, -1, -1, 0, 0, 2, 1, 1};
  std::vector<std::int32_t> to{0, 3, 0, 0, 1, 1, 1, 2, 2};
  std::vector<std::int64_t> at{day(20).micros(), day(50).micros(), day(5).micros(),
                               day(0).micros(),  day(5).micros(),  day(10).micros(),
                               day(40).micros(), day(5).micros(),  day(15).micros()};
  HistoryColumns columns() const { return {entity, from, to, at}; }
};

History sample() { return History(Rows().columns(), 4, {"p", "a", "b", "c"}); }

std::string render(const StageTime& s) {
  std::string out = std::to_string(s.entity) + ":" + std::to_string(s.state) +
                    " first=" + std::to_string(s.first_entered.micros() / 86'400'000'000LL) +
                    " latest=" + std::to_string(s.latest_entered.micros() / 86'400'000'000LL) +
                    " exited=" +
                    (s.last_exited ? std::to_string(s.last_exited->micros() / 86'400'000'000LL) : "-") +
                    " stints=" + std::to_string(s.stints) + " days=" + std::to_string(s.days) +
                    (s.current ? " current" : "");
  return out;
}

}  // namespace

TEST_CASE("history gives every entity's stage as of a time, the last row at or before it") {
  const History h = sample();
  CHECK(h.rows() == 9);
  CHECK(h.entities() == std::vector<std::int64_t>{1, 2, 3});
  CHECK(h.stages_as_of(day(12)) == std::vector<std::int32_t>{1, 2, -1});
  // Entity 2's three rows share day 5: the input order decides, so it is in b.
  CHECK(h.stages_as_of(day(5)) == std::vector<std::int32_t>{0, 2, -1});
  CHECK(h.stages_as_of(day(45)) == std::vector<std::int32_t>{1, 2, 0});
  CHECK(h.stages_as_of(day(-1)) == std::vector<std::int32_t>{-1, -1, -1});
  CHECK(h.stage_as_of(1, day(50)) == 3);
  CHECK(h.stage_as_of(1, Timestamp(day(50).micros() - 1)) == 1);
  CHECK(h.stage_as_of(99, day(50)) == -1);
}

TEST_CASE("history gives time in stage per entity and stage, re-entries counted") {
  const History h = sample();
  std::vector<std::string> got;
  for (const auto& s : h.stage_times(day(60))) got.push_back(render(s));
  CHECK(got == std::vector<std::string>{
                   "1:0 first=0 latest=0 exited=10 stints=1 days=10.000000",
                   "1:1 first=10 latest=40 exited=50 stints=2 days=15.000000",
                   "1:2 first=15 latest=15 exited=40 stints=1 days=25.000000",
                   "1:3 first=50 latest=50 exited=- stints=1 days=10.000000 current",
                   "2:0 first=5 latest=5 exited=5 stints=1 days=0.000000",
                   "2:1 first=5 latest=5 exited=5 stints=1 days=0.000000",
                   "2:2 first=5 latest=5 exited=- stints=1 days=55.000000 current",
                   "3:0 first=20 latest=20 exited=- stints=1 days=40.000000 current",
               });
  // As of day 45 entity 1 is back in a: the open stint counts up to day 45.
  got.clear();
  for (const auto& s : h.stage_times(day(45)))
    if (s.entity == 1) got.push_back(render(s));
  CHECK(got == std::vector<std::string>{
                   "1:0 first=0 latest=0 exited=10 stints=1 days=10.000000",
                   "1:1 first=10 latest=40 exited=15 stints=2 days=10.000000 current",
                   "1:2 first=15 latest=15 exited=40 stints=1 days=25.000000",
               });
  // Half a day is 0.5 days: durations are not rounded.
  const std::vector<std::int64_t> e{7};
  const std::vector<std::int32_t> f{-1}, t{0};
  const std::vector<std::int64_t> at{0};
  const History one(HistoryColumns{e, f, t, at}, 1);
  CHECK(one.stage_times(Timestamp(43'200'000'000LL))[0].days == 0.5);
}

TEST_CASE("history counts entities per stage over a series of dates") {
  const History h = sample();
  const std::vector<Timestamp> dates{day(12), day(5), day(45)};
  CHECK(h.distribution(dates) ==
        std::vector<std::int64_t>{0, 1, 1, 0,  /* day 12 */
                                  1, 0, 1, 0,  /* day 5 */
                                  1, 1, 1, 0}); /* day 45 */
  // The counts of a date equal what stages_as_of gives for it.
  const auto at45 = h.stages_as_of(day(45));
  CHECK(at45 == std::vector<std::int32_t>{1, 2, 0});
}

TEST_CASE("history counts transitions in a period, creation as from = -1") {
  const History h = sample();
  const auto render_counts = [](const std::vector<TransitionCount>& v) {
    std::string out;
    for (const auto& c : v)
      out += std::to_string(c.from) + ">" + std::to_string(c.to) + "=" + std::to_string(c.count) + " ";
    return out;
  };
  CHECK(render_counts(h.transition_counts(day(0), day(20))) == "-1>0=2 0>1=2 1>2=2 ");
  CHECK(render_counts(h.transition_counts(day(0), day(100))) == "-1>0=3 0>1=2 1>2=2 1>3=1 2>1=1 ");
  CHECK(h.transition_counts(day(60), day(100)).empty());
}

TEST_CASE("the funnel counts, of the entities entering a stage in the period, those that enter another later") {
  const History h = sample();
  const Funnel f = h.funnel(day(0), day(100));
  CHECK(f.entered == std::vector<std::int64_t>{3, 2, 2, 1});
  CHECK(f.reached == std::vector<std::int64_t>{0, 2, 2, 1,   // from p
                                               0, 1, 2, 1,   // from a (entity 1 re-enters a)
                                               0, 1, 0, 1,   // from b
                                               0, 0, 0, 0}); // from c
  CHECK(f.rate(0, 1) == Approx(2.0 / 3.0).epsilon(1e-15));
  CHECK(f.rate(3, 0) == 0.0);
  // Period [12, 45): only entity 1's entries into b (15) and a (40), and entity 3's creation.
  const Funnel g = h.funnel(day(12), day(45));
  CHECK(g.entered == std::vector<std::int64_t>{1, 1, 1, 0});
  std::int64_t total = 0;
  for (auto v : g.reached) total += v;
  CHECK(total == 1);
  CHECK(g.reached[2 * 4 + 1] == 1);
}

TEST_CASE("median stage durations count completed stints only") {
  const History h = sample();
  const auto m = h.median_durations(day(60));
  REQUIRE(m.size() == 4);
  CHECK(m[0] == std::optional<double>(5.0));   // {10, 0}: the mean of the two
  CHECK(m[1] == std::optional<double>(5.0));   // {5, 10, 0}
  CHECK(m[2] == std::optional<double>(25.0));  // entity 2's stint in b is still open
  CHECK_FALSE(m[3].has_value());
  const auto early = h.median_durations(day(12));
  CHECK(early[0] == std::optional<double>(5.0));
  CHECK(early[1] == std::optional<double>(0.0));
  CHECK_FALSE(early[2].has_value());
}

TEST_CASE("history refuses rows that do not chain, naming the input row") {
  const std::vector<std::int64_t> e{1, 1};
  const std::vector<std::int64_t> at{0, 5};
  {
    const std::vector<std::int32_t> f{-1, 1}, t{0, 2};
    CHECK_THROWS_WITH(History(HistoryColumns{e, f, t, at}, 4, {"p", "a", "b", "c"}),
                      "row 1: entity 1 moves from 'a' but is in 'p'");
  }
  {
    const std::vector<std::int32_t> f{-1, -1}, t{0, 1};
    CHECK_THROWS_WITH(History(HistoryColumns{e, f, t, at}, 4, {"p", "a", "b", "c"}),
                      "row 1: entity 1 has from = -1 (creation) but is already in 'p'");
  }
  {
    const std::vector<std::int32_t> f{-1, 0}, t{0, 4};
    CHECK_THROWS_WITH(History(HistoryColumns{e, f, t, at}, 4),
                      "row 1: to state 4 is out of range (4 states)");
  }
  {
    const std::vector<std::int32_t> f{-1}, t{0, 1};
    try {
      History(HistoryColumns{e, f, t, at}, 4);
      FAIL("no exception");
    } catch (const Error& err) {
      CHECK(err.code() == ErrorCode::invalid_argument);
      CHECK(std::string(err.what()) ==
            "history: the entity, from, to and at columns must have the same length (2, 1, 2, 2)");
    }
  }
}

TEST_CASE("history answers agree with a direct scan on a random history") {
  // 200 entities, each with a chain of up to 12 moves among 5 states at random times (ties
  // included); rows shuffled. Each answer is checked against a plain scan of that entity's rows.
  std::uint64_t seed = 12345;
  const auto next = [&seed](std::uint64_t n) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (seed >> 33) % n;
  };
  struct R {
    std::int64_t entity, at;
    std::int32_t from, to;
    std::size_t order;
  };
  std::vector<R> rows;
  for (std::int64_t e = 0; e < 200; ++e) {
    std::int64_t t = static_cast<std::int64_t>(next(100)) * 86'400'000'000LL;
    std::int32_t s = static_cast<std::int32_t>(next(5));
    rows.push_back({e * 7, t, -1, s, rows.size()});
    const auto moves = next(12);
    for (std::uint64_t k = 0; k < moves; ++k) {
      t += static_cast<std::int64_t>(next(3)) * 43'200'000'000LL;  // 0, 0.5 or 1 day later
      std::int32_t to = static_cast<std::int32_t>(next(5));
      if (to == s) to = (to + 1) % 5;
      rows.push_back({e * 7, t, s, to, rows.size()});
      s = to;
    }
  }
  // Shuffle the rows, then put each entity's rows back in their own order into the positions
  // the shuffle gave that entity: entities interleave, and rows of one entity at one time keep
  // their input order (as an automatic chain written in one evaluation does).
  std::vector<R> shuffled = rows;
  for (std::size_t i = shuffled.size(); i > 1; --i) std::swap(shuffled[i - 1], shuffled[next(i)]);
  std::map<std::int64_t, std::vector<std::size_t>> slots;
  for (std::size_t i = 0; i < shuffled.size(); ++i) slots[shuffled[i].entity].push_back(i);
  for (const auto& r : rows) {
    auto& free = slots[r.entity];
    shuffled[free.front()] = r;
    free.erase(free.begin());
  }
  CHECK(shuffled.front().order != 0);  // the input is really out of order
  std::vector<std::int64_t> entity, at;
  std::vector<std::int32_t> from, to;
  for (const auto& r : shuffled) {
    entity.push_back(r.entity);
    at.push_back(r.at);
    from.push_back(r.from);
    to.push_back(r.to);
  }
  const History h(HistoryColumns{entity, from, to, at}, 5);
  REQUIRE(h.entities().size() == 200);
  std::vector<Timestamp> dates;
  for (std::int64_t d = -1; d < 130; d += 3) dates.push_back(day(d));
  const auto dist = h.distribution(dates);
  for (std::size_t di = 0; di < dates.size(); ++di) {
    const auto stages = h.stages_as_of(dates[di]);
    std::vector<std::int64_t> counts(5, 0);
    for (std::size_t e = 0; e < 200; ++e) {
      // Direct scan: the last row of entity e at or before the date.
      std::int32_t expect = -1;
      for (const auto& r : rows)
        if (r.entity == static_cast<std::int64_t>(e) * 7 && r.at <= dates[di].micros()) expect = r.to;
      CHECK(stages[e] == expect);
      CHECK(h.stage_as_of(static_cast<std::int64_t>(e) * 7, dates[di]) == expect);
      if (expect >= 0) ++counts[static_cast<std::size_t>(expect)];
    }
    for (std::size_t s = 0; s < 5; ++s) CHECK(dist[di * 5 + s] == counts[s]);
  }
  // Cumulative days per entity add up to the time since its first row.
  const auto times = h.stage_times(day(200));
  std::vector<double> total(200, 0.0);
  for (const auto& st : times) total[static_cast<std::size_t>(st.entity / 7)] += st.days;
  for (std::size_t e = 0; e < 200; ++e) {
    std::int64_t first = 0;
    for (const auto& r : rows)
      if (r.entity == static_cast<std::int64_t>(e) * 7 && r.from == -1) first = r.at;
    CHECK(total[e] == Approx(static_cast<double>(day(200).micros() - first) / 86'400'000'000.0));
  }
  // Every row in [0, 1000 days) is counted once.
  std::int64_t counted = 0;
  for (const auto& c : h.transition_counts(day(0), day(1000))) counted += c.count;
  CHECK(counted == static_cast<std::int64_t>(rows.size()));
}

TEST_CASE("history sorts any entity ids (negative, above 2^32) and rows out of time order") {
  // Entities -5, 7 and 2^40 + 3, rows shuffled across entities and out of time order within
  // one; two rows of entity 7 share a time and keep their input order (creation first).
  const std::int64_t big = (std::int64_t{1} << 40) + 3;
  const std::vector<std::int64_t> entity = {big, 7, -5, 7, big, -5, 7};
  const std::vector<std::int32_t> from = {0, -1, 0, 0, -1, -1, 1};
  const std::vector<std::int32_t> to = {1, 0, 2, 1, 0, 0, 2};
  const std::vector<std::int64_t> at = {50, 10, 30, 10, 40, 20, 60};
  const History h(HistoryColumns{entity, from, to, at}, 3);
  CHECK(h.entities() == std::vector<std::int64_t>{-5, 7, big});
  CHECK(h.stages_as_of(Timestamp(9)) == std::vector<std::int32_t>{-1, -1, -1});
  CHECK(h.stages_as_of(Timestamp(10)) == std::vector<std::int32_t>{-1, 1, -1});
  CHECK(h.stages_as_of(Timestamp(45)) == std::vector<std::int32_t>{2, 1, 0});
  CHECK(h.stages_as_of(Timestamp(60)) == std::vector<std::int32_t>{2, 2, 1});
  CHECK(h.stage_as_of(big, Timestamp(55)) == 1);
}
