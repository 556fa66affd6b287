// Server state shared by every worker: one ServerState per (pool, server
// address) and one PoolHealth per pool, kept in a HealthRegistry that
// outlives a configuration snapshot, so a reload can carry them over.
//
// Who writes what:
// - health (usable or not, why, since when) is written only by the health
//   thread (active probes, the end of an ejection) and by passive ejection
//   (any worker, through PassiveHealth::onFailure);
// - in-flight counts by the workers that send requests;
// - everything is read by every worker's picker without a lock (atomics,
//   relaxed: a picker that sees a change one request late is fine).
// The reason text and counters for logs and status sit behind a mutex that
// the request path never takes.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "weir/config/config.h"

namespace weir::upstream {

// Milliseconds on the monotonic clock (CLOCK_MONOTONIC_COARSE: a few ns to
// read, 1-4 ms resolution, enough for health and slow start).
int64_t monotonicMs();

// Bumped on every change of any server's usability, in any pool. Pickers
// cache what they derive from health (which tier, primary or backup, is in
// use) and recompute it when this moves; changes are rare.
uint64_t healthEpoch();

// Since the start of the process: no slow-start ramp.
constexpr int64_t kUpSinceStart = INT64_MIN / 2;

class ServerState {
 public:
  ServerState(std::string pool, std::string name);
  ServerState(const ServerState&) = delete;
  ServerState& operator=(const ServerState&) = delete;

  const std::string& pool() const { return pool_; }
  const std::string& name() const { return name_; }  // "host:port"

  // ---- read on the hot path (any thread, lock-free) ----
  bool usable() const { return usable_.load(std::memory_order_relaxed); }
  int32_t inFlight() const { return in_flight_.load(std::memory_order_relaxed); }
  // When the server last became usable (monotonicMs), or kUpSinceStart.
  int64_t upSince() const { return up_since_.load(std::memory_order_relaxed); }
  // The share of its weight slow start gives the server at `now`, in
  // [kMinRamp, 1]; 1 when slow_start_ms is 0 or the ramp is over.
  double rampFactor(int64_t now, int64_t slow_start_ms) const;
  static constexpr double kMinRamp = 0.1;

  void requestStarted() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  void requestEnded() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }

  // ---- health (writers: the health thread and passive ejection) ----
  bool activeDown() const { return active_down_.load(std::memory_order_relaxed); }
  bool ejected() const { return ejected_until_.load(std::memory_order_relaxed) != 0; }
  int64_t ejectedUntil() const { return ejected_until_.load(std::memory_order_relaxed); }
  // Active checks' verdict. Returns true when it changed usability; logs
  // the transition (one error-log line) and counts it.
  bool setActiveDown(bool down, const std::string& why, int64_t now);
  // Passive ejection until `until` (0 ends it). Returns true when the
  // ejection began or ended (also for a server already down by active
  // checks, whose usability does not change); logs and counts a change of
  // usability as setActiveDown does.
  bool setEjectedUntil(int64_t until, const std::string& why, int64_t now);

  struct Status {
    bool usable;
    bool active_down;
    int64_t ejected_until;
    int64_t since;        // monotonicMs of the last transition (0: none yet)
    std::string reason;   // why it is in its state ("" at start)
    uint64_t transitions;
    uint32_t ejections;   // ejections in the current backoff series
  };
  Status status() const;

  // ---- totals for metrics (never reset; written rarely, by few) ----
  // Passive ejections begun (PassiveHealth::onFailure).
  uint64_t ejectionsTotal() const { return ejections_total_.load(std::memory_order_relaxed); }
  // Active probe results (the health thread, through countCheck).
  uint64_t checksPassed() const { return checks_passed_.load(std::memory_order_relaxed); }
  uint64_t checksFailed() const { return checks_failed_.load(std::memory_order_relaxed); }
  void countCheck(bool passed) { (passed ? checks_passed_ : checks_failed_).fetch_add(1, std::memory_order_relaxed); }

 private:
  friend class PassiveHealth;
  bool update(const char* source, const std::string& why, int64_t now);

  const std::string pool_;
  const std::string name_;

  std::atomic<bool> usable_{true};
  std::atomic<int32_t> in_flight_{0};
  std::atomic<int64_t> up_since_{kUpSinceStart};
  std::atomic<bool> active_down_{false};
  std::atomic<int64_t> ejected_until_{0};

  // Passive health (see PassiveHealth).
  std::atomic<uint32_t> consecutive_failures_{0};
  std::atomic<bool> probation_{false};      // un-ejected, not yet succeeded: one failure re-ejects
  std::atomic<uint32_t> ejections_{0};      // in the current series, for the backoff
  std::atomic<int64_t> last_ejection_end_{0};
  std::atomic<uint64_t> ejections_total_{0};
  std::atomic<uint64_t> checks_passed_{0};
  std::atomic<uint64_t> checks_failed_{0};

  mutable std::mutex mu_;  // guards the fields below; never taken per request
  std::string reason_;
  int64_t since_ = 0;
  uint64_t transitions_ = 0;
};

using ServerStatePtr = std::shared_ptr<ServerState>;

// Pool-wide counters shared by every worker.
struct PoolHealth {
  explicit PoolHealth(std::string pool_name) : name(std::move(pool_name)) {}
  const std::string name;
  std::atomic<int32_t> requests_in_flight{0};  // client requests sent to the pool, retries not counted
  std::atomic<int32_t> retries_in_flight{0};
  std::atomic<int32_t> ejected{0};             // servers ejected by passive health now
  std::atomic<int64_t> all_down_logged{0};     // monotonicMs of the last "all servers down" line
  std::atomic<uint64_t> all_down_answers{0};   // 503s for no usable server
  std::atomic<uint64_t> retries{0};            // retries started
  std::atomic<uint64_t> retries_refused{0};    // retries the budget refused
};

using PoolHealthPtr = std::shared_ptr<PoolHealth>;

// The servers of one pool as a configuration snapshot sees them, in
// config order (index i is pools[p].servers[i]).
struct PoolView {
  PoolHealthPtr health;
  std::vector<ServerStatePtr> servers;
  int64_t slow_start_ms = 0;
};

// Outlier ejection from live traffic (pools.NAME.passive). Stateless apart
// from the ServerState and PoolHealth it updates; any worker calls it.
class PassiveHealth {
 public:
  PassiveHealth(const config::PassiveHealthConfig& cfg, size_t pool_size) : cfg_(cfg), pool_size_(pool_size) {}
  // A response that counts as success: resets the failure run.
  void onSuccess(ServerState& s) const;
  // A failure (connect error, reset before a response, timeout, or a
  // status in on_status). True when this failure ejected the server.
  bool onFailure(ServerState& s, PoolHealth& pool, const std::string& why, int64_t now) const;
  // Called periodically by the health thread: ends ejections that are due.
  // (A passing probe ends an ejection through endEjection.)
  void expire(ServerState& s, PoolHealth& pool, int64_t now) const;
  static void endEjection(ServerState& s, PoolHealth& pool, const std::string& why, int64_t now);
  // The ejection time for the n-th ejection in a series (n >= 1).
  int64_t ejectionMs(uint32_t n) const;
  // How many servers of the pool may be ejected at once.
  int32_t maxEjected() const;

 private:
  config::PassiveHealthConfig cfg_;
  size_t pool_size_;
};

// Every ServerState and PoolHealth, keyed by pool name and server address,
// so that a reload finds the state of servers that stay. Main thread only
// (building a snapshot); the objects it hands out are shared.
class HealthRegistry {
 public:
  PoolView view(const config::PoolConfig& pool);
  // After a reload is published: forgets the pools and servers `config`
  // no longer has (snapshots still running keep their own references), so
  // a server removed and added back later starts as a new server does.
  void retain(const config::Config& config);

 private:
  std::map<std::string, PoolHealthPtr> pools_;
  std::map<std::string, ServerStatePtr> servers_;  // "pool\nhost:port"
};

}  // namespace weir::upstream
