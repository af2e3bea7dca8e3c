// method=file: the messages as JSON lines, {"topic": ..., "message": {...}}, written at once.
#include <fstream>

#include "faceqan/publish/publisher.h"

namespace faceqan::publish {
namespace {

class FilePublisher : public Publisher {
 public:
  FilePublisher(const std::string& path, const std::string& topic) : Publisher(topic), path_(path) {
    out_.open(path, std::ios::out | std::ios::trunc);
    if (!out_) throw PublishError("file-path \"" + path + "\": cannot create the file");
  }
  ~FilePublisher() override { stop(); }

  bool flush(std::chrono::milliseconds) override {
    std::lock_guard<std::mutex> lock(mutex_);
    return !failed_;
  }
  void stop() override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (out_.is_open()) out_.close();
  }
  PublisherStats stats() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

 protected:
  void enqueue(Message message) override {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.queued;
    if (!out_.is_open()) return;
    // The payload is already JSON: spliced in rather than parsed again.
    out_ << "{\"topic\":" << nlohmann::json(message.topic).dump() << ",\"message\":"
         << message.payload << "}\n";
    out_.flush();  // a consumer tailing the file sees whole messages
    if (!out_) {
      failed_ = true;
      return;
    }
    ++stats_.sent;
    ++stats_.acknowledged;
  }

 private:
  std::string path_;
  mutable std::mutex mutex_;
  std::ofstream out_;
  bool failed_ = false;
  PublisherStats stats_;
};

}  // namespace

std::unique_ptr<Publisher> make_file_publisher(const std::string& path, const std::string& topic) {
  if (path.empty()) throw PublishError("method=file needs file-path");
  return std::make_unique<FilePublisher>(path, topic);
}

}  // namespace faceqan::publish
