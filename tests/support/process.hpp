// Runs the real flareq binary as a child process for tests, with its stderr
// collected by a reader thread. The child is killed if the object goes
// while it still runs. Driven by one test thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace flareq::test {

class process {
 public:
  // Starts binary with args; env entries ("NAME=value") are added to ours.
  process(const std::string& binary, const std::vector<std::string>& args,
          const std::vector<std::string>& env = {});
  ~process();
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  // Waits (up to timeout) for the start-up line and returns the port in it;
  // 0 when the process ended or the time ran out first.
  std::uint16_t wait_for_port(std::chrono::seconds timeout = std::chrono::seconds(20));
  void send_signal(int signal);
  // Waits for the child to end and returns its exit code (128 + signal when
  // killed); a child still running after timeout is killed (137).
  int wait(std::chrono::seconds timeout = std::chrono::seconds(60));
  // What the child wrote to stderr and stdout so far.
  std::string output();

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::mutex mutex_;
  std::string output_;  // guarded by mutex_
  std::thread reader_;
  bool waited_ = false;
  int exit_code_ = -1;
};

// The flareq binary built next to the tests.
std::string flareq_binary();

}  // namespace flareq::test
