#include "faceqan/collect/track_message.h"

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cmath>
#include <ctime>
#include <regex>

namespace faceqan::collect {
namespace {

ReadResult reject(Rejection rejection, std::string detail) {
  ReadResult result;
  result.rejection = rejection;
  result.detail = std::move(detail);
  return result;
}

bool valid_camera_id(const std::string& camera) {
  if (camera.empty()) return false;
  for (char c : camera) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

const char* rejection_name(Rejection rejection) {
  switch (rejection) {
    case Rejection::kNotJson: return "not_json";
    case Rejection::kUnknownSchema: return "unknown_schema";
    case Rejection::kBadFields: return "bad_fields";
    case Rejection::kBadCameraId: return "bad_camera_id";
    case Rejection::kNoEmbedding: return "no_embedding";
    case Rejection::kNoCrop: return "no_crop";
    case Rejection::kCorruptCrop: return "corrupt_crop";
  }
  return "unknown";
}

std::optional<std::int64_t> parse_rfc3339(const std::string& text) {
  static const std::regex kLayout(
      R"((\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2}))");
  std::smatch m;
  if (!std::regex_match(text, m, kLayout)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = std::stoi(m[1]) - 1900;
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  tm.tm_hour = std::stoi(m[4]);
  tm.tm_min = std::stoi(m[5]);
  tm.tm_sec = std::stoi(m[6]);
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return std::nullopt;
  }
  std::int64_t seconds = timegm(&tm);
  std::int64_t nanos = 0;
  if (m[7].matched) {
    std::string digits = m[7].str().substr(1);
    digits.resize(9, '0');
    nanos = std::stoll(digits);
  }
  const std::string zone = m[8];
  if (zone != "Z" && zone != "z") {
    const int offset = std::stoi(zone.substr(1, 2)) * 3600 + std::stoi(zone.substr(4, 2)) * 60;
    seconds -= zone[0] == '+' ? offset : -offset;
  }
  return seconds * 1000000000LL + nanos;
}

std::optional<std::vector<unsigned char>> decode_base64(const std::string& text) {
  std::vector<unsigned char> out;
  out.reserve(text.size() / 4 * 3);
  unsigned value = 0;
  int bits = 0;
  std::size_t padding = 0;
  for (char c : text) {
    int digit = -1;
    if (c >= 'A' && c <= 'Z') digit = c - 'A';
    else if (c >= 'a' && c <= 'z') digit = c - 'a' + 26;
    else if (c >= '0' && c <= '9') digit = c - '0' + 52;
    else if (c == '+') digit = 62;
    else if (c == '/') digit = 63;
    else if (c == '=') {
      ++padding;
      continue;
    }
    if (digit < 0 || padding > 0) return std::nullopt;  // a stray character, or data after '='
    value = (value << 6) | static_cast<unsigned>(digit);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<unsigned char>((value >> bits) & 0xFF));
    }
  }
  if (padding > 2) return std::nullopt;
  return out;
}

ReadResult read_track_message(const std::string& payload) {
  const auto body = nlohmann::json::parse(payload, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return reject(Rejection::kNotJson, "not a JSON object");
  if (const auto schema = body.find("schema"); schema != body.end()) {
    if (!schema->is_number_integer() || schema->get<long long>() != kSchemaVersion) {
      return reject(Rejection::kUnknownSchema,
                    "schema " + schema->dump() + " (this faceqan reads version " +
                        std::to_string(kSchemaVersion) + ")");
    }
  }
  ReadResult result;
  TrackMessage message;
  const auto event_field = body.find("event");
  const std::string event = event_field != body.end() && event_field->is_string()
                                ? event_field->get<std::string>()
                                : std::string();
  message.kind = event == "end"   ? TrackMessage::Kind::kEnd
                 : event == "new" ? TrackMessage::Kind::kStart
                                  : TrackMessage::Kind::kOther;
  if (message.kind == TrackMessage::Kind::kOther) {
    result.message = std::move(message);
    return result;
  }
  const auto camera = body.find("camera_id");
  const auto track = body.find("track_id");
  const auto wall = body.find("wall_time");
  if (camera == body.end() || !camera->is_string() || track == body.end() ||
      !track->is_number_unsigned() || wall == body.end() || !wall->is_string()) {
    return reject(Rejection::kBadFields, "camera_id, track_id or wall_time missing or malformed");
  }
  message.camera = camera->get<std::string>();
  if (!valid_camera_id(message.camera)) {
    return reject(Rejection::kBadCameraId, "camera_id \"" + message.camera +
                                               "\" is not [A-Za-z0-9_-]+ (it names files)");
  }
  const auto track_id = track->get<unsigned long long>();
  const auto wall_ns = parse_rfc3339(wall->get<std::string>());
  if (track_id == 0 || track_id > UINT32_MAX || !wall_ns) {
    return reject(Rejection::kBadFields, "track_id or wall_time out of range");
  }
  message.track = static_cast<std::uint32_t>(track_id);
  message.wall_time = wall->get<std::string>();
  message.wall_ns = *wall_ns;
  if (message.kind == TrackMessage::Kind::kStart) {
    result.message = std::move(message);
    return result;
  }
  const auto quality = body.find("quality");
  if (quality == body.end() || !quality->is_number() || !std::isfinite(quality->get<double>())) {
    return reject(Rejection::kBadFields, "an end event without a quality (never scored)");
  }
  message.quality = quality->get<double>();
  if (const auto timestamp = body.find("timestamp");
      timestamp != body.end() && timestamp->is_number_unsigned()) {
    message.timestamp = timestamp->get<std::uint64_t>();
  }
  const auto embedding = body.find("embedding");
  if (embedding == body.end() || !embedding->is_array() || embedding->empty()) {
    return reject(Rejection::kNoEmbedding,
                  "an end event without an embedding (faceqan attach-embedding=true sends it)");
  }
  for (const auto& value : *embedding) {
    if (!value.is_number() || !std::isfinite(value.get<double>())) {
      return reject(Rejection::kNoEmbedding, "the embedding holds a value that is not a number");
    }
    message.embedding.push_back(value.get<float>());
  }
  const auto crop = body.find("crop");
  if (crop == body.end() || !crop->is_string()) {
    return reject(Rejection::kNoCrop,
                  "an end event without a crop (faceqanpublish attach-crop=true sends it)");
  }
  const auto bytes = decode_base64(crop->get<std::string>());
  if (bytes && !bytes->empty()) message.crop = cv::imdecode(*bytes, cv::IMREAD_COLOR);
  if (message.crop.empty()) {
    return reject(Rejection::kCorruptCrop, "the crop is not a base64 image");
  }
  result.message = std::move(message);
  return result;
}

}  // namespace faceqan::collect
