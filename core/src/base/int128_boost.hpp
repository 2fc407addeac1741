// Private: crmkit::Int128 <-> boost::multiprecision::checked_int128_t, for crmkit's own sources
// (base, and the layers above through their staged tree as "base/int128_boost.hpp"). Never
// included by a public header.
//
// Both types are a sign and a 128-bit magnitude with the same range, so the conversions are
// exact both ways and never throw. With a compiler that has a 128-bit integer (g++, clang),
// Boost stores checked_int128_t as one unsigned __int128 limb and a sign flag; the conversions
// then copy two words and a flag (no division, no text), which keeps the bulk paths (purchase
// import, per-customer sums) as fast as when Money held the Boost type itself.
#pragma once

#include <cstdint>

#include <boost/multiprecision/cpp_int.hpp>

#include "crmkit/base/int128.hpp"

namespace crmkit {
inline namespace v0 {

using BoostInt128 = boost::multiprecision::checked_int128_t;

namespace detail {

// The one door to Int128's representation.
struct Int128Access {
  static constexpr Int128 make(bool negative, std::uint64_t high, std::uint64_t low) noexcept {
    return Int128(negative, high, low);
  }
  static constexpr std::uint64_t high(const Int128& x) noexcept { return x.high_; }
  static constexpr std::uint64_t low(const Int128& x) noexcept { return x.low_; }
  static constexpr bool negative(const Int128& x) noexcept { return x.negative_; }
};

}  // namespace detail

inline BoostInt128 to_boost(const Int128& x) noexcept {
  using A = detail::Int128Access;
  BoostInt128 out;
#if defined(BOOST_HAS_INT128)
  using Limb = BoostInt128::backend_type::local_limb_type;
  static_assert(sizeof(Limb) * 8 == 128, "checked_int128_t is expected to be one 128-bit limb");
  *out.backend().limbs() = (static_cast<Limb>(A::high(x)) << 64) | static_cast<Limb>(A::low(x));
  out.backend().sign(A::negative(x));
#else
  out = A::high(x);
  out <<= 64;
  out |= A::low(x);
  if (A::negative(x)) out = -out;
#endif
  return out;
}

inline Int128 from_boost(const BoostInt128& x) noexcept {
  using A = detail::Int128Access;
#if defined(BOOST_HAS_INT128)
  using Limb = BoostInt128::backend_type::local_limb_type;
  const Limb magnitude = *x.backend().limbs();
  return A::make(x.backend().sign(), static_cast<std::uint64_t>(magnitude >> 64),
                 static_cast<std::uint64_t>(magnitude));
#else
  const BoostInt128 magnitude = abs(x);
  const BoostInt128 mask = (std::numeric_limits<std::uint64_t>::max)();
  return A::make(x < 0, static_cast<std::uint64_t>(magnitude >> 64),
                 static_cast<std::uint64_t>(magnitude & mask));
#endif
}

}  // namespace v0
}  // namespace crmkit
