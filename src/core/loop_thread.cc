#include "weir/core/loop_thread.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdlib>

#include "core/loop_base.h"
#include "weir/core/signals.h"

namespace weir::core {

LoopThread::LoopThread(std::string name) : name_(std::move(name)) {
  // One thread uses the base; the wake-up goes through an eventfd, so no
  // libevent locking is needed.
  base_ = detail::newSingleThreadBase();
  wake_ev_ = detail::newWakeEvent(base_, wake_fd_, &LoopThread::onWake, this);
}

LoopThread::~LoopThread() {
  stop();
  event_free(wake_ev_);
  ::close(wake_fd_);
  event_base_free(base_);
}

void LoopThread::start(std::function<void()> on_start, std::function<void()> on_stop) {
  thread_ = std::thread([this, on_start = std::move(on_start), on_stop = std::move(on_stop)] {
    pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
    AltSignalStack alt_stack;
    if (on_start) on_start();
    // A stop requested before the loop ran has already written the eventfd,
    // so the loop sees it at once.
    event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY);
    if (on_stop) on_stop();
  });
}

void LoopThread::stop() {
  if (!thread_.joinable()) return;
  stop_requested_.store(true);
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
  thread_.join();
}

void LoopThread::post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(tasks_mu_);
    tasks_.push_back(std::move(task));
  }
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void LoopThread::onWake(evutil_socket_t fd, short, void* arg) {
  auto* t = static_cast<LoopThread*>(arg);
  uint64_t v;
  [[maybe_unused]] ssize_t n = ::read(fd, &v, sizeof v);
  if (t->stop_requested_.load()) {
    event_base_loopbreak(t->base_);
    return;
  }
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(t->tasks_mu_);
    tasks.swap(t->tasks_);
  }
  for (auto& task : tasks) task();
}

}  // namespace weir::core
