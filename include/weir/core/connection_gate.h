// The process-wide count of open client connections, against the cap
// (limits.connections). Shared by all workers and owned by Server;
// thread-safe (atomics, no locks).
//
// A worker takes a slot before each accept() and gives it back when the
// connection ends (Worker::connectionClosed) or the accept fails. A worker
// that finds the gate full stops accepting and registers as a waiter, so
// that the worker freeing a slot knows to wake it.
#pragma once

#include <atomic>
#include <cstddef>

namespace weir::core {

class ConnectionGate {
 public:
  explicit ConnectionGate(size_t cap) : cap_(cap == 0 ? 1 : cap) {}
  // A reload may change limits.connections. Connections already open past
  // a lower cap stay; new ones wait until the count is under it.
  void setCap(size_t cap) { cap_.store(cap == 0 ? 1 : cap); }

  // Takes a slot if one is free.
  bool tryAcquire() {
    size_t open = open_.load();
    while (open < cap_.load()) {
      if (open_.compare_exchange_weak(open, open + 1)) return true;
    }
    return false;
  }
  // Gives a slot back. True if the gate was full and a worker waits for room.
  bool release() {
    size_t before = open_.fetch_sub(1);
    return before >= cap_.load() && waiters_.load() > 0;
  }
  // A worker stops or resumes waiting for room. Sequentially consistent
  // with release(): a waiter that registers and then sees the gate full is
  // seen by the release that frees the next slot.
  void addWaiter() { waiters_.fetch_add(1); }
  void removeWaiter() { waiters_.fetch_sub(1); }

  bool full() const { return open_.load() >= cap_.load(); }
  size_t open() const { return open_.load(); }
  size_t cap() const { return cap_.load(); }

 private:
  std::atomic<size_t> cap_;
  std::atomic<size_t> open_{0};
  std::atomic<int> waiters_{0};
};

}  // namespace weir::core
