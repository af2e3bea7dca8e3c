// A program started by a test as a child process (an RTSP server, `faceqan run`), its stdout and
// stderr in a log file, stopped by its pid.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace faceqan::test {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();  // SIGKILL if still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts `argv[0]` (a path) with its output appended to `log_path`.
  void start(const std::vector<std::string>& argv, const std::string& log_path);
  // Sends `signal`; no-op if not running.
  void signal(int signal);
  // Waits for the exit: its status, -1 if it did not exit normally, -2 on timeout.
  int wait(std::chrono::milliseconds timeout);
  // SIGKILL and wait.
  void kill();
  bool running() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

// True once 127.0.0.1:port accepts a TCP connection, false after the timeout.
bool wait_for_port(int port, std::chrono::milliseconds timeout);

// The whole of a file ("" if absent).
std::string read_text(const std::string& path);

}  // namespace faceqan::test
