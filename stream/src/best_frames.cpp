#include "faceqan/stream/best_frames.h"

#include <opencv2/imgcodecs.hpp>

#include <filesystem>
#include <stdexcept>

#include "faceqan/stream/location_pattern.h"

namespace faceqan {
namespace {

double seconds(std::uint64_t nanoseconds) {
  return nanoseconds == UINT64_MAX ? 0.0 : static_cast<double>(nanoseconds) / 1e9;
}

void write_image(const std::string& path, const cv::Mat& image) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ignored;
  if (!parent.empty()) std::filesystem::create_directories(parent, ignored);
  bool written = false;
  try {
    written = cv::imwrite(path, image);
  } catch (const cv::Exception& e) {
    throw std::runtime_error("cannot write " + path + ": " + e.what());
  }
  if (!written) throw std::runtime_error("cannot write " + path);
}

}  // namespace

bool BestFrameSelector::offer(BestFrame candidate) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = entries_.find(candidate.track);
  if (found == entries_.end()) {
    const double first_seen = seconds(candidate.timestamp);
    Entry entry{std::move(candidate), true, first_seen};
    entries_.emplace(entry.best.track, std::move(entry));
    return true;
  }
  Entry& entry = found->second;
  if (candidate.quality <= entry.best.quality) return false;
  entry.best = std::move(candidate);
  entry.changed = true;
  return true;
}

void BestFrameSelector::set_frame(TrackId track, cv::Mat frame) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = entries_.find(track);
  if (found != entries_.end()) found->second.best.frame = std::move(frame);
}

std::vector<BestFrame> BestFrameSelector::end_tracks(const std::vector<TrackId>& tracks) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<BestFrame> ended;
  for (TrackId track : tracks) {
    auto found = entries_.find(track);
    if (found == entries_.end()) continue;
    // A best already handed out by best-interval and not beaten since is not repeated.
    if (found->second.changed) ended.push_back(std::move(found->second.best));
    entries_.erase(found);
  }
  return ended;
}

std::vector<BestFrame> BestFrameSelector::take_due(double now, double interval) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<BestFrame> due;
  for (auto& [track, entry] : entries_) {
    if (!entry.changed || now - entry.since < interval) continue;
    due.push_back(entry.best);  // a copy: the track goes on and may still improve
    entry.changed = false;
    entry.since = now;
  }
  return due;
}

std::vector<BestFrame> BestFrameSelector::take_all() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<BestFrame> all;
  for (auto& [track, entry] : entries_) {
    if (entry.changed) all.push_back(std::move(entry.best));
  }
  entries_.clear();
  return all;
}

std::size_t BestFrameSelector::tracks() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

void save_best_frame(BestFrame* best, const std::string& pattern, bool save_frame) {
  const std::string path = format_location(pattern, best->person_id());
  if (path.empty()) throw std::runtime_error("invalid best-location pattern " + pattern);
  write_image(path, best->crop);
  best->crop_path = path;
  if (save_frame && !best->frame.empty()) {
    best->frame_path = with_frame_suffix(path);
    write_image(best->frame_path, best->frame);
  }
}

}  // namespace faceqan
