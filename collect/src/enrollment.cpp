#include "faceqan/collect/enrollment.h"

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace faceqan::collect {
namespace {

using nlohmann::json;

// Persons the gallery keeps before it forgets the least recently seen: far more than a stream's
// gallery, as enrollment keeps everyone. Each costs up to 8 embeddings (16 KB at 512 values).
constexpr std::size_t kMaxPersons = 100000;
// Ended tracks remembered to recognise duplicates (QoS 1 may deliver a message twice).
constexpr std::int64_t kRememberEndedNs = 24LL * 3600 * 1000000000LL;

// Writes `bytes` to `path` by writing PATH.tmp and renaming it over `path`: a reader (or a
// restart) sees the old file or the new one, never half of one.
void replace_file(const std::string& path, const std::string& bytes) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) throw CollectError("cannot write " + temporary + ": " + std::strerror(errno));
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    throw CollectError("cannot rename " + temporary + " to " + path + ": " + std::strerror(errno));
  }
}

void write_crop(const std::string& path, const cv::Mat& crop) {
  std::vector<unsigned char> png;
  if (!cv::imencode(".png", crop, png)) throw CollectError("cannot encode the crop for " + path);
  replace_file(path, std::string(png.begin(), png.end()));
}

}  // namespace

Enrollment::Enrollment(std::string dir, double same_person)
    : dir_(std::move(dir)), same_person_(same_person) {
  gallery_.set_min_similarity(same_person_);
  gallery_.set_max_persons(kMaxPersons);
  std::error_code error;
  std::filesystem::create_directories(dir_, error);
  if (!std::filesystem::is_directory(dir_)) {
    throw CollectError("cannot create the folder " + dir_ + ": " + error.message());
  }
  load();
}

std::string Enrollment::person_id(const TrackKey& person) const {
  return "person-" + std::to_string(person.track);
}

Outcome Enrollment::handle(const std::string& payload) {
  ReadResult read = read_track_message(payload);
  Outcome outcome;
  if (read.rejection) {
    ++counts_.rejected[rejection_name(*read.rejection)];
    outcome.kind = Outcome::Kind::kRejected;
    outcome.detail = std::string(rejection_name(*read.rejection)) + ": " + read.detail;
    save_index();
    return outcome;
  }
  const TrackMessage& message = *read.message;
  if (message.kind == TrackMessage::Kind::kStart) {
    Seen& seen = seen_[{message.camera, message.track}];
    if (seen.serial != 0 && seen.ended_at.empty()) {
      outcome.kind = Outcome::Kind::kDuplicate;  // the same new event again
      return outcome;
    }
    start_track({message.camera, message.track}, message.wall_ns);
    return outcome;
  }
  if (message.kind == TrackMessage::Kind::kEnd) return end_track(message);
  return outcome;
}

Outcome Enrollment::end_track(const TrackMessage& message) {
  Outcome outcome;
  Seen& seen = seen_[{message.camera, message.track}];
  if (seen.serial != 0 && seen.ended_at == message.wall_time) {
    ++counts_.duplicates;
    save_index();
    outcome.kind = Outcome::Kind::kDuplicate;
    return outcome;
  }
  if (seen.serial == 0 || !seen.ended_at.empty()) {
    start_track({message.camera, message.track}, message.wall_ns);  // its new event was missed
  }
  seen.ended_at = message.wall_time;
  TrackSpan span;
  span.extend(static_cast<std::uint64_t>(std::min(seen.started_ns, message.wall_ns)));
  span.extend(static_cast<std::uint64_t>(message.wall_ns));
  const PersonAssignment assignment = gallery_.assign(
      TrackKey{message.camera, seen.serial}, message.embedding, message.quality, span);
  const std::string id = person_id(assignment.person_key());
  auto [person, added] = persons_.try_emplace(id);
  ++counts_.end_events;
  ++person->second.tracks_seen;
  if (added) {
    ++counts_.new_persons;
    person->second.id = id;
    person->second.gallery_key = assignment.person_key();
    outcome.kind = Outcome::Kind::kNewPerson;
  } else {
    ++counts_.joined;
    outcome.kind = Outcome::Kind::kJoined;
  }
  outcome.person = id;
  if (added || assignment.person_best) {
    // The crop first: the index never names a crop that is not on disk.
    write_crop(crop_path(id), message.crop);
    Person& best = person->second;
    best.best_quality = message.quality;
    best.camera = message.camera;
    best.track = message.track;
    best.time = message.wall_time;
    best.timestamp = message.timestamp;
    if (!added) {
      ++counts_.crops_replaced;
      outcome.crop_replaced = true;
    }
  }
  prune_seen();
  save_index();
  return outcome;
}

Enrollment::Seen& Enrollment::start_track(const ElementTrack& track, std::int64_t started_ns) {
  Seen& seen = seen_[track];
  if (seen.serial != 0) element_track_.erase(seen.serial);
  seen = Seen{next_serial_++, started_ns, ""};
  element_track_[seen.serial] = track;
  return seen;
}

void Enrollment::prune_seen() {
  std::int64_t newest = 0;
  for (const auto& [key, seen] : seen_) newest = std::max(newest, seen.started_ns);
  for (auto it = seen_.begin(); it != seen_.end();) {
    const bool old =
        !it->second.ended_at.empty() && it->second.started_ns < newest - kRememberEndedNs;
    if (old) element_track_.erase(it->second.serial);
    it = old ? seen_.erase(it) : std::next(it);
  }
}

void Enrollment::save_index() const {
  json persons = json::array();
  for (const auto& [id, person] : persons_) {
    json tracks = json::array();
    for (const GalleryTrack& track : gallery_.tracks_of(person.gallery_key)) {
      json entry = {{"camera", track.track.camera},
                    {"serial", track.track.track},
                    {"first_ns", track.span.first},
                    {"last_ns", track.span.last}};
      if (const auto element = element_track_.find(track.track.track);
          element != element_track_.end()) {
        entry["track_id"] = element->second.second;
        entry["ended_at"] = seen_.at(element->second).ended_at;
      }
      entry["embedding"] = track.embedding;
      tracks.push_back(std::move(entry));
    }
    persons.push_back({{"person_id", id},
                       {"best_quality", person.best_quality},
                       {"camera", person.camera},
                       {"track_id", person.track},
                       {"time", person.time},
                       {"timestamp", person.timestamp},
                       {"crop", id + ".png"},
                       {"tracks_seen", person.tracks_seen},
                       {"gallery_key", {{"camera", person.gallery_key.camera},
                                        {"serial", person.gallery_key.track}}},
                       {"tracks", std::move(tracks)}});
  }
  const json index = {
      {"schema", kSchemaVersion},
      {"same_person", same_person_},
      {"next_serial", next_serial_},
      {"counts", {{"end_events", counts_.end_events},
                  {"new_persons", counts_.new_persons},
                  {"joined", counts_.joined},
                  {"crops_replaced", counts_.crops_replaced},
                  {"duplicates", counts_.duplicates},
                  {"rejected", counts_.rejected}}},
      {"persons", std::move(persons)}};
  replace_file(index_path(), index.dump(1) + "\n");
}

void Enrollment::load() {
  std::ifstream in(index_path());
  if (!in) return;  // a new folder
  std::stringstream text;
  text << in.rdbuf();
  try {
    const json index = json::parse(text.str());
    if (index.at("schema").get<int>() != kSchemaVersion) {
      throw CollectError(index_path() + ": schema " + index.at("schema").dump() +
                         " (this faceqan reads version " + std::to_string(kSchemaVersion) + ")");
    }
    next_serial_ = std::max<std::uint32_t>(1, index.at("next_serial").get<std::uint32_t>());
    const json& counts = index.at("counts");
    counts_.end_events = counts.at("end_events").get<std::uint64_t>();
    counts_.new_persons = counts.at("new_persons").get<std::uint64_t>();
    counts_.joined = counts.at("joined").get<std::uint64_t>();
    counts_.crops_replaced = counts.at("crops_replaced").get<std::uint64_t>();
    counts_.duplicates = counts.at("duplicates").get<std::uint64_t>();
    counts_.rejected = counts.at("rejected").get<std::map<std::string, std::uint64_t>>();
    for (const json& saved : index.at("persons")) {
      Person person;
      person.id = saved.at("person_id").get<std::string>();
      person.best_quality = saved.at("best_quality").get<double>();
      person.camera = saved.at("camera").get<std::string>();
      person.track = saved.at("track_id").get<std::uint32_t>();
      person.time = saved.at("time").get<std::string>();
      person.timestamp = saved.at("timestamp").get<std::uint64_t>();
      person.tracks_seen = saved.at("tracks_seen").get<std::uint64_t>();
      person.gallery_key.camera = saved.at("gallery_key").at("camera").get<std::string>();
      person.gallery_key.track = saved.at("gallery_key").at("serial").get<std::uint32_t>();
      for (const json& track : saved.at("tracks")) {
        GalleryTrack entry;
        entry.track.camera = track.at("camera").get<std::string>();
        entry.track.track = track.at("serial").get<std::uint32_t>();
        entry.span.first = track.at("first_ns").get<std::uint64_t>();
        entry.span.last = track.at("last_ns").get<std::uint64_t>();
        entry.embedding = track.at("embedding").get<std::vector<float>>();
        gallery_.restore(person.gallery_key, entry, person.best_quality);
        next_serial_ = std::max(next_serial_, entry.track.track + 1);
        if (track.contains("track_id")) {
          const ElementTrack element{entry.track.camera, track.at("track_id").get<std::uint32_t>()};
          Seen& seen = seen_[element];
          if (entry.track.track > seen.serial) {  // the latest stream's track of that id
            if (seen.serial != 0) element_track_.erase(seen.serial);
            seen = Seen{entry.track.track, static_cast<std::int64_t>(entry.span.first),
                        track.at("ended_at").get<std::string>()};
            element_track_[seen.serial] = element;
          }
        }
      }
      persons_[person.id] = std::move(person);
    }
  } catch (const json::exception& error) {
    // Never start over a corrupt index: writing would lose every person it holds.
    throw CollectError(index_path() + " is not a faceqan collect index (" + error.what() +
                       "); move it away to start a new one");
  }
}

}  // namespace faceqan::collect
