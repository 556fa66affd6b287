// A random eligible server, drawn with probability proportional to its
// effective weight (weight x slow-start ramp): the draw of random and
// least_request.
//
// A draw takes a random entry of a WeightedCycle (each server appears in
// proportion to its weight) and, for a ramping server, keeps it with
// probability equal to its ramp factor. An ineligible entry is redrawn, which
// keeps the shares of the others exact. After kAttempts misses (most of the
// tier down or tried) one weighted pass over the tier decides, so a draw
// stays O(1) in the usual case and bounded otherwise.
#pragma once

#include "upstream/balancer/eligibility.h"
#include "upstream/balancer/weighted_cycle.h"
#include "weir/common/fast_random.h"

namespace weir::upstream {

class WeightedDraw {
 public:
  explicit WeightedDraw(const Eligibility& eligibility);

  // An eligible server other than `except` (-1: none excluded), or -1 when
  // there is none. `eligibility` is the one this was built from, refreshed.
  int draw(const Eligibility& eligibility, FastRandom& random, int64_t now, const TriedSet& tried,
           int except = -1) const;

 private:
  static constexpr int kAttempts = 16;
  int scan(const Eligibility& eligibility, FastRandom& random, int64_t now, const TriedSet& tried,
           int except) const;

  WeightedCycle cycles_[2];  // by tier, kGrouped
};

}  // namespace weir::upstream
