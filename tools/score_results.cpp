#include "score_results.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <stdexcept>

namespace faceqan::cli {
namespace {

nlohmann::ordered_json face_to_json(const FaceReport& face) {
  nlohmann::ordered_json object = nlohmann::ordered_json::object();
  if (face.quality) {
    object["quality"] = *face.quality;
    object["mean_similarity"] = *face.mean_similarity;
    object["std_similarity"] = *face.std_similarity;
    object["symmetry"] = *face.symmetry;
  }
  if (face.embedding_norm) object["embedding_norm"] = *face.embedding_norm;
  if (face.box) object["box"] = *face.box;
  if (face.confidence) object["confidence"] = *face.confidence;
  if (face.landmarks) object["landmarks"] = *face.landmarks;
  return object;
}

std::string csv_quote(const std::string& text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

template <typename T>
std::string optional_text(const std::optional<T>& value) {
  if (!value) return "";
  std::ostringstream out;
  out << std::setprecision(9) << *value;
  return out.str();
}

void write_json(std::ostream& out, const std::vector<ImageReport>& reports, bool include_size) {
  nlohmann::ordered_json array = nlohmann::ordered_json::array();
  for (const auto& report : reports) {
    nlohmann::ordered_json object = {{"image", report.image}};
    if (include_size && !report.error) {
      object["width"] = report.width;
      object["height"] = report.height;
    }
    if (report.error) {
      object["error"] = *report.error;
    } else {
      object["faces"] = nlohmann::ordered_json::array();
      for (const auto& face : report.faces) object["faces"].push_back(face_to_json(face));
    }
    array.push_back(std::move(object));
  }
  out << array.dump(2) << '\n';
}

void write_csv(std::ostream& out, const std::vector<ImageReport>& reports) {
  out << "image,face,quality,mean_similarity,std_similarity,symmetry,embedding_norm,x,y,width,height,confidence,error\n";
  for (const auto& report : reports) {
    if (report.error) {
      out << csv_quote(report.image) << ",,,,,,,,,,,," << csv_quote(*report.error) << '\n';
      continue;
    }
    for (size_t i = 0; i < report.faces.size(); ++i) {
      const FaceReport& face = report.faces[i];
      out << csv_quote(report.image) << ',' << i << ',' << optional_text(face.quality) << ','
          << optional_text(face.mean_similarity) << ',' << optional_text(face.std_similarity) << ','
          << optional_text(face.symmetry) << ',' << optional_text(face.embedding_norm);
      for (int j = 0; j < 4; ++j) out << ',' << (face.box ? optional_text(std::optional<float>((*face.box)[j])) : "");
      out << ',' << optional_text(face.confidence) << ",\n";
    }
  }
}

}  // namespace

std::string format_for_path(const std::string& path) {
  if (path.empty()) return "json";
  std::string extension = std::filesystem::path(path).extension().string();
  for (auto& c : extension) c = static_cast<char>(::tolower(c));
  if (extension == ".csv") return "csv";
  if (extension == ".json") return "json";
  throw std::runtime_error("--output must end in .json or .csv: " + path);
}

void write_reports(const std::vector<ImageReport>& reports, const std::string& format,
                   const std::string& path, bool include_size) {
  std::ofstream file;
  if (!path.empty()) {
    file.open(path);
    if (!file) throw std::runtime_error("cannot write " + path);
  }
  std::ostream& out = path.empty() ? std::cout : file;
  if (format == "csv") {
    write_csv(out, reports);
  } else {
    write_json(out, reports, include_size);
  }
  out.flush();
  if (!out) throw std::runtime_error("cannot write " + (path.empty() ? std::string("stdout") : path));
}

}  // namespace faceqan::cli
