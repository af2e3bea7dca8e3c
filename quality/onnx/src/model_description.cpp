// Model description files (MODEL.json): a recognition model's input contract.
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

#include "faceqan/model_io.h"

namespace fs = std::filesystem;

namespace faceqan {
namespace {

[[noreturn]] void invalid(const std::string& path, const std::string& problem) {
  throw Error(ErrorCode::kModelInvalid, "model description " + path + ": " + problem);
}

// A whole number that fits an int. nlohmann's get<int>() casts any number, and a double outside
// int's range (1e23) makes that cast undefined behaviour (found by fuzzing).
int read_int(const nlohmann::json& value, const std::string& key, const std::string& path) {
  const auto limit = static_cast<double>(std::numeric_limits<int>::max());
  if (value.is_number_integer() || value.is_number_float()) {
    const double number = value.get<double>();
    if (std::isfinite(number) && number == std::floor(number) && number >= -limit - 1 &&
        number <= limit) {
      return value.is_number_float() ? static_cast<int>(number)
                                     : static_cast<int>(value.get<std::int64_t>());
    }
  }
  if (value.is_number_unsigned() && value.get<std::uint64_t>() <= static_cast<std::uint64_t>(limit)) {
    return static_cast<int>(value.get<std::uint64_t>());
  }
  invalid(path, key + " must be a whole number within int range, got " + value.dump());
}

std::array<float, 3> read_triple(const nlohmann::json& doc, const char* key, const std::string& path) {
  const auto& value = doc.at(key);
  if (!value.is_array() || value.size() != 3) invalid(path, std::string(key) + " must be an array of 3 numbers");
  std::array<float, 3> triple{};
  for (size_t i = 0; i < 3; ++i) {
    triple[i] = value.at(i).get<float>();
    // 1e39 becomes an infinite float: every pixel would then be NaN or 0.
    if (!std::isfinite(triple[i])) invalid(path, std::string(key) + " values must be finite numbers (float range)");
  }
  return triple;
}

}  // namespace

ModelContract read_model_description(const std::string& json_path) {
  std::ifstream file(json_path);
  if (!file) throw Error(ErrorCode::kModelNotFound, "model description not found: " + json_path);
  const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  return parse_model_description(text, json_path);
}

ModelContract parse_model_description(const std::string& text, const std::string& json_path) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& error) {
    invalid(json_path, std::string("not valid JSON: ") + error.what());
  }
  if (!doc.is_object()) invalid(json_path, "must be a JSON object");

  ModelContract contract;
  try {
    const auto& size = doc.at("input_size");
    if (!size.is_array() || size.size() != 2) invalid(json_path, "input_size must be [width, height]");
    contract.input_width = read_int(size.at(0), "input_size", json_path);
    contract.input_height = read_int(size.at(1), "input_size", json_path);
    if (contract.input_width < 1 || contract.input_height < 1) invalid(json_path, "input_size must be positive");

    const std::string order = doc.at("channel_order").get<std::string>();
    if (order == "RGB") {
      contract.channel_order = ChannelOrder::kRGB;
    } else if (order == "BGR") {
      contract.channel_order = ChannelOrder::kBGR;
    } else {
      invalid(json_path, "channel_order must be \"RGB\" or \"BGR\", got \"" + order + "\"");
    }
    contract.mean = read_triple(doc, "mean", json_path);
    contract.std = read_triple(doc, "std", json_path);
    for (float s : contract.std) {
      if (!(s > 0.0f)) invalid(json_path, "std values must be positive");
    }
    contract.embedding_size =
        doc.contains("embedding_size") ? read_int(doc.at("embedding_size"), "embedding_size", json_path) : 0;
    if (contract.embedding_size < 0) invalid(json_path, "embedding_size must not be negative");
  } catch (const nlohmann::json::exception& error) {
    // A missing key or a value of the wrong type.
    invalid(json_path, error.what());
  }
  return contract;
}

std::string find_model_description(const std::string& model_path) {
  const fs::path model(model_path);
  for (const fs::path& candidate :
       {fs::path(model).replace_extension(".json"), model.parent_path() / "MODEL.json"}) {
    if (fs::is_regular_file(candidate)) return candidate.string();
  }
  return {};
}

}  // namespace faceqan
