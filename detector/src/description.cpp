#include "faceqan/retinaface_description.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace faceqan {
namespace {

[[noreturn]] void fail(const std::string& source, const std::string& problem) {
  throw DetectorError("RetinaFace description " + source + ": " + problem);
}

std::vector<float> read_numbers(const cv::FileNode& node, const std::string& key,
                                const std::string& source) {
  if (!node.isSeq()) {
    fail(source, "\"" + key + "\" must be a list of numbers");
  }
  std::vector<float> numbers;
  for (const cv::FileNode& item : node) {
    if (!item.isInt() && !item.isReal()) {
      fail(source, "\"" + key + "\" must contain only numbers");
    }
    numbers.push_back(static_cast<float>(static_cast<double>(item)));
  }
  return numbers;
}

template <size_t N>
std::array<float, N> read_fixed(const cv::FileNode& node, const std::string& key,
                                const std::string& source) {
  const std::vector<float> numbers = read_numbers(node, key, source);
  if (numbers.size() != N) {
    fail(source, "\"" + key + "\" must have " + std::to_string(N) + " numbers");
  }
  std::array<float, N> fixed{};
  std::copy(numbers.begin(), numbers.end(), fixed.begin());
  return fixed;
}

std::string read_string(const cv::FileNode& node, const std::string& key,
                        const std::string& source) {
  if (!node.isString()) {
    fail(source, "\"" + key + "\" must be a string");
  }
  return static_cast<std::string>(node);
}

void read_into(const cv::FileNode& root, RetinaFaceDescription& d, const std::string& source) {
  if (const cv::FileNode node = root["input_size"]; !node.empty()) {
    const auto size = read_fixed<2>(node, "input_size", source);
    d.input_size = {static_cast<int>(size[0]), static_cast<int>(size[1])};
  }
  if (const cv::FileNode node = root["channel_order"]; !node.empty()) {
    const std::string order = read_string(node, "channel_order", source);
    if (order != "BGR" && order != "RGB") {
      fail(source, "\"channel_order\" must be \"BGR\" or \"RGB\", not \"" + order + "\"");
    }
    d.input_is_rgb = order == "RGB";
  }
  if (const cv::FileNode node = root["mean"]; !node.empty()) {
    d.mean = read_fixed<3>(node, "mean", source);
  }
  if (const cv::FileNode node = root["std"]; !node.empty()) {
    d.std = read_fixed<3>(node, "std", source);
  }
  if (const cv::FileNode node = root["min_sizes"]; !node.empty()) {
    if (!node.isSeq()) {
      fail(source, "\"min_sizes\" must be a list of lists");
    }
    d.min_sizes.clear();
    for (const cv::FileNode& level : node) {
      d.min_sizes.push_back(read_numbers(level, "min_sizes", source));
    }
  }
  if (const cv::FileNode node = root["steps"]; !node.empty()) {
    d.steps.clear();
    for (float step : read_numbers(node, "steps", source)) {
      d.steps.push_back(static_cast<int>(step));
    }
  }
  if (const cv::FileNode node = root["variances"]; !node.empty()) {
    d.variances = read_fixed<2>(node, "variances", source);
  }
  if (const cv::FileNode node = root["input"]; !node.empty()) {
    d.input_name = read_string(node, "input", source);
  }
  if (const cv::FileNode outputs = root["outputs"]; !outputs.empty()) {
    if (!outputs.isMap()) {
      fail(source, "\"outputs\" must be an object with boxes, scores and landmarks");
    }
    const std::pair<const char*, std::string*> names[] = {{"boxes", &d.boxes_output},
                                                          {"scores", &d.scores_output},
                                                          {"landmarks", &d.landmarks_output}};
    for (const auto& [key, target] : names) {
      if (const cv::FileNode node = outputs[key]; !node.empty()) {
        *target = read_string(node, std::string("outputs.") + key, source);
      }
    }
  }
}

// JSON string literal; output names are plain identifiers in practice, but stay correct anyway.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

template <typename Numbers>
std::string json_list(const Numbers& numbers) {
  std::ostringstream out;
  out << "[";
  const char* separator = "";
  for (const auto& number : numbers) {
    out << separator << number;
    separator = ", ";
  }
  out << "]";
  return out.str();
}

// The first inconsistency in a description, or an empty string when there is none.
std::string first_problem(const RetinaFaceDescription& d) {
  if (d.input_size.width <= 0 || d.input_size.height <= 0) {
    return "input_size must be positive";
  }
  if (d.steps.empty() || d.steps.size() != d.min_sizes.size()) {
    return "steps and min_sizes must be non-empty and of equal length";
  }
  for (size_t i = 0; i < d.steps.size(); ++i) {
    if (d.steps[i] <= 0 || d.min_sizes[i].empty()) {
      return "each step must be positive and have at least one min_size";
    }
    for (float size : d.min_sizes[i]) {
      if (!(size > 0.0f)) {
        return "min_sizes must be positive";
      }
    }
  }
  for (float value : d.std) {
    if (value == 0.0f) {
      return "std must not contain zero";
    }
  }
  if (!(d.variances[0] > 0.0f) || !(d.variances[1] > 0.0f)) {
    return "variances must be positive";
  }
  if (d.boxes_output.empty() || d.scores_output.empty() || d.landmarks_output.empty()) {
    return "output names must not be empty";
  }
  return {};
}

}  // namespace

void RetinaFaceDescription::validate() const {
  if (const std::string problem = first_problem(*this); !problem.empty()) {
    throw DetectorError("RetinaFace description: " + problem);
  }
}

RetinaFaceDescription default_retinaface_description() { return {}; }

std::string description_path_for_model(const std::string& onnx_path) {
  return std::filesystem::path(onnx_path).replace_extension(".json").string();
}

RetinaFaceDescription read_retinaface_description(const std::string& json_path) {
  if (!std::filesystem::is_regular_file(json_path)) {
    fail(json_path, "file not found");
  }
  RetinaFaceDescription description;
  try {
    cv::FileStorage storage(json_path, cv::FileStorage::READ | cv::FileStorage::FORMAT_JSON);
    if (!storage.isOpened() || !storage.root().isMap()) {
      fail(json_path, "not a JSON object");
    }
    read_into(storage.root(), description, json_path);
  } catch (const cv::Exception& error) {
    fail(json_path, std::string("cannot parse: ") + error.what());
  }
  if (const std::string problem = first_problem(description); !problem.empty()) {
    fail(json_path, problem);
  }
  return description;
}

RetinaFaceDescription retinaface_description_for_model(const std::string& onnx_path) {
  const std::string sidecar = description_path_for_model(onnx_path);
  if (std::filesystem::exists(sidecar)) {
    return read_retinaface_description(sidecar);
  }
  return default_retinaface_description();
}

std::string retinaface_description_json(const RetinaFaceDescription& d) {
  std::vector<std::string> levels;
  for (const auto& sizes : d.min_sizes) {
    levels.push_back(json_list(sizes));
  }
  std::string min_sizes = "[";
  for (size_t i = 0; i < levels.size(); ++i) {
    min_sizes += (i ? ", " : "") + levels[i];
  }
  min_sizes += "]";
  std::ostringstream json;
  json << "{\n"
       << "  \"input_size\": " << json_list(std::array<int, 2>{d.input_size.width,
                                                               d.input_size.height})
       << ",\n"
       << "  \"channel_order\": " << (d.input_is_rgb ? "\"RGB\"" : "\"BGR\"") << ",\n"
       << "  \"mean\": " << json_list(d.mean) << ",\n"
       << "  \"std\": " << json_list(d.std) << ",\n"
       << "  \"min_sizes\": " << min_sizes << ",\n"
       << "  \"steps\": " << json_list(d.steps) << ",\n"
       << "  \"variances\": " << json_list(d.variances) << ",\n";
  if (!d.input_name.empty()) {
    json << "  \"input\": " << quoted(d.input_name) << ",\n";
  }
  json << "  \"outputs\": { \"boxes\": " << quoted(d.boxes_output)
       << ", \"scores\": " << quoted(d.scores_output)
       << ", \"landmarks\": " << quoted(d.landmarks_output) << " }\n"
       << "}\n";
  return json.str();
}

void write_retinaface_description(const RetinaFaceDescription& description,
                                  const std::string& json_path) {
  description.validate();
  std::ofstream file(json_path, std::ios::binary | std::ios::trunc);
  file << retinaface_description_json(description);
  file.close();
  if (!file) {
    throw DetectorError("cannot write RetinaFace description " + json_path);
  }
}

}  // namespace faceqan
