// A one-line progress display on stderr, shown only when stderr is a terminal.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace faceqan::cli {

class Progress {
 public:
  Progress(std::string what, size_t total)
      : what_(std::move(what)), total_(total), enabled_(total > 1 && isatty(STDERR_FILENO) != 0),
        start_(std::chrono::steady_clock::now()) {}
  ~Progress() {
    if (enabled_ && shown_) std::fputc('\n', stderr);
  }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void update(size_t done) {
    if (!enabled_) return;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::fprintf(stderr, "\r%s %zu/%zu (%.1f s)", what_.c_str(), done, total_, seconds);
    std::fflush(stderr);
    shown_ = true;
  }

 private:
  std::string what_;
  size_t total_;
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace faceqan::cli
