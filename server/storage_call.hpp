// Runs a queue_store operation on the writer thread and resumes the calling
// coroutine on its own executor once the operation's transaction has
// committed. The result (or the exception the operation threw, or the
// commit's failure) comes back as the value (or exception) of co_await.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <memory>
#include <utility>

#include "storage/writer.hpp"

namespace flareq {

namespace detail {

// Holds the coroutine's handler until the writer reports; the work guard
// keeps the handler's executor running (its io_context must not stop meanwhile).
template <class T, class Fn, class Handler>
class storage_job final : public storage::job {
 public:
  using executor_type = boost::asio::associated_executor_t<Handler>;

  storage_job(Fn fn, Handler handler, bool alone)
      : alone_(alone),
        fn_(std::move(fn)),
        work_(boost::asio::get_associated_executor(handler)),
        handler_(std::move(handler)) {}

  bool alone() const override { return alone_; }
  void execute(storage::queue_store& store) override { value_ = fn_(store); }

  void complete(std::exception_ptr error) noexcept override {
    auto executor = work_.get_executor();
    boost::asio::post(executor,
                      [h = std::move(handler_), error, v = std::move(value_),
                       work = std::move(work_)]() mutable { std::move(h)(error, std::move(v)); });
  }

 private:
  bool alone_;
  Fn fn_;
  boost::asio::executor_work_guard<executor_type> work_;
  Handler handler_;
  T value_{};
};

}  // namespace detail

// fn: T(storage::queue_store&), run on the writer thread (alone: by itself,
// outside any transaction; see storage::job). T must be default
// constructible and movable.
template <class T, class Fn>
boost::asio::awaitable<T> call_storage(storage::writer& writer, Fn fn, bool alone = false) {
  auto initiate = [&writer, alone, fn = std::move(fn)](auto handler) mutable {
    using job_type = detail::storage_job<T, Fn, decltype(handler)>;
    writer.submit(std::make_unique<job_type>(std::move(fn), std::move(handler), alone));
  };
  co_return co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                                 void(std::exception_ptr, T)>(
      std::move(initiate), boost::asio::use_awaitable);
}

}  // namespace flareq
