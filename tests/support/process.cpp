// Child processes for tests (see process.hpp).
#include "tests/support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>

extern char** environ;

namespace flareq::test {

std::string flareq_binary() {
  return FLAREQ_BINARY;
}

process::process(const std::string& binary, const std::vector<std::string>& args,
                 const std::vector<std::string>& env) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> argv_s = {binary};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) env_s.emplace_back(*e);
  env_s.insert(env_s.end(), env.begin(), env.end());
  std::vector<char*> argv, envp;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::execve(binary.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  out_fd_ = fds[0];
  reader_ = std::thread([this] {
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(out_fd_, buf, sizeof buf);
      if (n <= 0) break;
      std::lock_guard lock(mutex_);
      output_.append(buf, static_cast<std::size_t>(n));
    }
  });
}

process::~process() {
  if (!waited_) {
    ::kill(pid_, SIGKILL);
    wait();
  }
  if (reader_.joinable()) reader_.join();
  ::close(out_fd_);
}

std::uint16_t process::wait_for_port(std::chrono::seconds timeout) {
  static const std::regex listening("listening on http://[^ ]+:([0-9]+)");
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(mutex_);
      std::smatch m;
      if (std::regex_search(output_, m, listening)) {
        return static_cast<std::uint16_t>(std::stoi(m[1].str()));
      }
    }
    int status = 0;
    if (!waited_ && ::waitpid(pid_, &status, WNOHANG) == pid_) {
      waited_ = true;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return 0;
    }
    // Polls the child's output; this waits on another process, not on time.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return 0;
}

void process::send_signal(int signal) {
  if (!waited_) ::kill(pid_, signal);
}

int process::wait(std::chrono::seconds timeout) {
  if (!waited_) {
    int status = 0;
    // A child that does not end in time is a failure, not a hung suite.
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        {
          std::lock_guard lock(mutex_);
          output_ += "\n[test: killed after " + std::to_string(timeout.count()) + " s]\n";
        }
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    waited_ = true;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  if (reader_.joinable()) reader_.join();
  return exit_code_;
}

std::string process::output() {
  std::lock_guard lock(mutex_);
  return output_;
}

}  // namespace flareq::test
