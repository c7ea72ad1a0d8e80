// Wakes the readers of the journal's live stream when the writer commits.
// The writer thread calls notify() after each commit; stream coroutines on
// the I/O threads wait() for a version newer than the one they read at.
// Every method is safe from any thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace flareq {

class event_hub {
 public:
  // Something was committed: wakes every waiter.
  void notify();
  // The server is stopping: wakes every waiter, and wait() returns at once
  // from now on.
  void close();
  // Increases with every notify().
  std::uint64_t version() const;
  // Waits until the version is past seen, or the hub is closed, or timeout
  // has passed. Returns false when the hub is closed.
  boost::asio::awaitable<bool> wait(std::uint64_t seen, std::chrono::milliseconds timeout);

 private:
  mutable std::mutex mutex_;
  std::uint64_t version_ = 0;                                        // guarded by mutex_
  bool closed_ = false;                                              // guarded by mutex_
  std::vector<std::shared_ptr<boost::asio::steady_timer>> waiting_;  // guarded by mutex_
};

}  // namespace flareq
