// The journal's wake-ups (see event_hub.hpp).
#include "server/event_hub.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace flareq {

namespace {

// Cancels each timer on its own executor (a connection's strand).
void wake(const std::vector<std::shared_ptr<boost::asio::steady_timer>>& timers) {
  for (const auto& timer : timers) {
    boost::asio::post(timer->get_executor(), [timer] { timer->cancel(); });
  }
}

}  // namespace

void event_hub::notify() {
  std::vector<std::shared_ptr<boost::asio::steady_timer>> woken;
  {
    std::lock_guard lock(mutex_);
    version_++;
    woken.swap(waiting_);
  }
  wake(woken);
}

void event_hub::close() {
  std::vector<std::shared_ptr<boost::asio::steady_timer>> woken;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    woken.swap(waiting_);
  }
  wake(woken);
}

std::uint64_t event_hub::version() const {
  std::lock_guard lock(mutex_);
  return version_;
}

boost::asio::awaitable<bool> event_hub::wait(std::uint64_t seen,
                                             std::chrono::milliseconds timeout) {
  auto executor = co_await boost::asio::this_coro::executor;
  auto timer = std::make_shared<boost::asio::steady_timer>(executor, timeout);
  {
    std::lock_guard lock(mutex_);
    if (closed_) co_return false;
    if (version_ != seen) co_return true;
    waiting_.push_back(timer);
  }
  co_await timer->async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  std::lock_guard lock(mutex_);
  std::erase(waiting_, timer);
  co_return !closed_;
}

}  // namespace flareq
