// Loaded models kept for reuse within a process. Loading the detector and the recognition model
// costs about a second per element start on a CPU, which dominates pipelines that start and stop
// often (and many elements in one process). An element takes a model at READY->PAUSED and gives
// it back when it lets go of it (READY->NULL, or new settings); the next start with the same key
// gets the same instance without reading the file again.
//
// Each instance is used by one element at a time (the detector is not thread-safe, and a shared
// recognition model would serialise the elements' scoring). The key names the file by its
// contents' identity (path, inode, size, modification and change times, file_identity()), so a
// model file replaced between two runs is loaded anew: with garbage in it, that start fails.
//
// Plain C++ (no GStreamer) so that it has its own unit test.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace faceqan {

// What tells a file's contents apart without reading them: the path with stat()'s device, inode,
// size, and modification and change times in nanoseconds. Writing or replacing the file changes
// it. "missing" if there is no such file.
inline std::string file_identity(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return path + ":missing";
  const auto ns = [](const struct timespec& t) {
    return std::to_string(static_cast<long long>(t.tv_sec) * 1000000000LL + t.tv_nsec);
  };
  return path + ':' + std::to_string(info.st_dev) + ':' + std::to_string(info.st_ino) + ':' +
         std::to_string(info.st_size) + ':' + ns(info.st_mtim) + ':' + ns(info.st_ctim);
}

template <class Model>
class ModelPool {
 public:
  // Keeps at most max_idle models that nobody uses, the most recently given back.
  explicit ModelPool(std::size_t max_idle) : max_idle_(max_idle) {}
  ModelPool(const ModelPool&) = delete;
  ModelPool& operator=(const ModelPool&) = delete;

  // An idle model loaded under `key`, or else a new one from load() (whose exceptions pass
  // through). The returned pointer gives the model back to the pool when its last copy goes;
  // the pool must outlive it.
  std::shared_ptr<Model> take(const std::string& key,
                              const std::function<std::shared_ptr<Model>()>& load) {
    std::shared_ptr<Model> model;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto it = idle_.begin(); it != idle_.end(); ++it) {
        if (it->first == key) {
          model = std::move(it->second);
          idle_.erase(it);
          ++reused_;
          break;
        }
      }
    }
    if (!model) {
      model = load();  // outside the lock: loading takes long, and may throw
      if (!model) return nullptr;
      std::lock_guard<std::mutex> lock(mutex_);
      ++loaded_;
    }
    Model* raw = model.get();
    return std::shared_ptr<Model>(raw, [this, key, owner = std::move(model)](Model*) mutable {
      give_back(key, std::move(owner));
    });
  }

  std::size_t idle() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return idle_.size();
  }
  std::size_t loaded() const {  // models loaded so far
    std::lock_guard<std::mutex> lock(mutex_);
    return loaded_;
  }
  std::size_t reused() const {  // takes served by an idle model
    std::lock_guard<std::mutex> lock(mutex_);
    return reused_;
  }

  // Drops every idle model.
  void clear() {
    std::list<std::pair<std::string, std::shared_ptr<Model>>> dropped;
    std::lock_guard<std::mutex> lock(mutex_);
    dropped.swap(idle_);
  }

 private:
  void give_back(std::string key, std::shared_ptr<Model> model) {
    std::list<std::pair<std::string, std::shared_ptr<Model>>> dropped;  // destroyed unlocked
    std::lock_guard<std::mutex> lock(mutex_);
    if (max_idle_ == 0) {
      dropped.emplace_back(std::move(key), std::move(model));
      return;
    }
    idle_.emplace_front(std::move(key), std::move(model));
    while (idle_.size() > max_idle_) {
      dropped.splice(dropped.end(), idle_, std::prev(idle_.end()));
    }
  }

  mutable std::mutex mutex_;
  std::list<std::pair<std::string, std::shared_ptr<Model>>> idle_;  // most recent first
  std::size_t max_idle_;
  std::size_t loaded_ = 0, reused_ = 0;
};

}  // namespace faceqan
