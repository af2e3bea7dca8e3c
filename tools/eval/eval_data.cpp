#include "eval_data.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace faceqan::eval {
namespace fs = std::filesystem;
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::string line;
  std::istringstream in(text);
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  for (auto& f : fields) f = trim(f);
  return fields;
}

namespace {

bool is_integer(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

std::optional<bool> parse_same(const std::string& s) {
  const std::string v = lower(s);
  if (v == "1" || v == "yes" || v == "true" || v == "same") return true;
  if (v == "0" || v == "no" || v == "false" || v == "different") return false;
  return std::nullopt;
}

std::string lfw_name(const std::string& name, const std::string& number) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "_%04d.jpg", std::stoi(number));
  return name + "/" + name + buffer;
}

bool is_image_file(const fs::path& p) {
  const std::string e = lower(p.extension().string());
  return e == ".jpg" || e == ".jpeg" || e == ".png" || e == ".bmp" || e == ".webp" || e == ".tif" ||
         e == ".tiff" || e == ".ppm" || e == ".pgm";
}

class DatasetBuilder {
 public:
  explicit DatasetBuilder(Dataset& d) : d_(d) {}
  size_t index(const std::string& path) {
    const auto [it, added] = index_.emplace(path, d_.images.size());
    if (added) d_.images.push_back(path);
    return it->second;
  }
  void add(const std::string& a, const std::string& b, bool genuine) {
    const size_t ia = index(a);
    const size_t ib = index(b);
    d_.pairs.push_back({ia, ib, genuine});
  }

 private:
  Dataset& d_;
  std::map<std::string, size_t> index_;
};

}  // namespace

Dataset load_identity_folders(const std::string& root, size_t max_impostors, std::uint64_t seed) {
  if (!fs::is_directory(root)) throw std::runtime_error(root + " is not a folder");
  std::vector<std::vector<std::string>> identities;
  std::vector<fs::path> folders;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (entry.is_directory()) folders.push_back(entry.path());
  }
  std::sort(folders.begin(), folders.end());
  for (const auto& folder : folders) {
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(folder)) {
      if (entry.is_regular_file() && is_image_file(entry.path())) {
        files.push_back(folder.filename().string() + "/" + entry.path().filename().string());
      }
    }
    std::sort(files.begin(), files.end());
    if (!files.empty()) identities.push_back(files);
  }
  Dataset d;
  d.root = root;
  d.identities = identities.size();
  if (identities.empty()) throw std::runtime_error(root + " holds no identity folder with images");
  for (const auto& files : identities) {
    for (const auto& f : files) d.images.push_back(f);
  }
  std::vector<size_t> start;
  size_t n = 0;
  for (const auto& files : identities) {
    start.push_back(n);
    n += files.size();
  }
  for (size_t id = 0; id < identities.size(); ++id) {
    for (size_t i = 0; i < identities[id].size(); ++i) {
      for (size_t j = i + 1; j < identities[id].size(); ++j) {
        d.pairs.push_back({start[id] + i, start[id] + j, true});
      }
    }
  }
  // Impostor pairs in enumeration order: (image i of identity A, image j of a later identity B).
  std::vector<ImagePair> impostors;
  for (size_t A = 0; A < identities.size(); ++A) {
    for (size_t B = A + 1; B < identities.size(); ++B) {
      for (size_t i = 0; i < identities[A].size(); ++i) {
        for (size_t j = 0; j < identities[B].size(); ++j) {
          impostors.push_back({start[A] + i, start[B] + j, false});
        }
      }
    }
  }
  d.impostor_pairs_available = impostors.size();
  if (max_impostors > 0 && impostors.size() > max_impostors) {
    std::vector<size_t> order(impostors.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::mt19937_64 rng(seed);
    for (size_t i = 0; i < max_impostors; ++i) {  // partial Fisher-Yates
      std::uniform_int_distribution<size_t> pick(i, order.size() - 1);
      std::swap(order[i], order[pick(rng)]);
    }
    order.resize(max_impostors);
    std::sort(order.begin(), order.end());
    std::vector<ImagePair> kept;
    for (size_t i : order) kept.push_back(impostors[i]);
    impostors.swap(kept);
  }
  d.pairs.insert(d.pairs.end(), impostors.begin(), impostors.end());
  return d;
}

Dataset parse_pair_list(const std::string& text, const std::string& root, const std::string& name) {
  Dataset d;
  d.root = root;
  DatasetBuilder builder(d);
  const std::vector<std::string> lines = lines_of(text);
  size_t first = 0;
  while (first < lines.size() && trim(lines[first]).empty()) ++first;
  const auto fail = [&](size_t line, const std::string& why) {
    throw std::runtime_error(name + ":" + std::to_string(line + 1) + ": " + why);
  };
  if (first < lines.size() && lines[first].find(',') != std::string::npos) {
    // CSV with a header.
    const std::vector<std::string> header = csv_fields(lines[first]);
    long cx = -1, cy = -1, cd = -1;
    for (size_t i = 0; i < header.size(); ++i) {
      const std::string h = lower(header[i]);
      if (h == "file_x" || h == "image_a" || h == "img1") cx = static_cast<long>(i);
      if (h == "file_y" || h == "image_b" || h == "img2") cy = static_cast<long>(i);
      if (h == "decision" || h == "same" || h == "label") cd = static_cast<long>(i);
    }
    if (cx < 0 || cy < 0 || cd < 0) fail(first, "a CSV pair list needs columns file_x, file_y and Decision");
    for (size_t l = first + 1; l < lines.size(); ++l) {
      if (trim(lines[l]).empty()) continue;
      const std::vector<std::string> f = csv_fields(lines[l]);
      if (f.size() <= static_cast<size_t>(std::max({cx, cy, cd}))) fail(l, "too few columns");
      const auto same = parse_same(f[static_cast<size_t>(cd)]);
      if (!same) fail(l, "Decision must be Yes or No, not \"" + f[static_cast<size_t>(cd)] + "\"");
      builder.add(f[static_cast<size_t>(cx)], f[static_cast<size_t>(cy)], *same);
    }
  } else {
    for (size_t l = first; l < lines.size(); ++l) {
      const std::string line = trim(lines[l]);
      if (line.empty() || line[0] == '#') continue;
      std::istringstream in(line);
      std::vector<std::string> t;
      for (std::string w; in >> w;) t.push_back(w);
      if (t.size() <= 2 && std::all_of(t.begin(), t.end(), is_integer)) continue;  // LFW count line
      if (t.size() == 3 && is_integer(t[1]) && is_integer(t[2])) {
        builder.add(lfw_name(t[0], t[1]), lfw_name(t[0], t[2]), true);
      } else if (t.size() == 4 && is_integer(t[1]) && is_integer(t[3])) {
        builder.add(lfw_name(t[0], t[1]), lfw_name(t[2], t[3]), false);
      } else if (t.size() == 3) {
        const auto same = parse_same(t[2]);
        if (!same) fail(l, "third column must be 1 (same) or 0 (different), not \"" + t[2] + "\"");
        builder.add(t[0], t[1], *same);
      } else {
        fail(l, "expected \"name n1 n2\", \"name1 n1 name2 n2\" or \"image_a image_b same\"");
      }
    }
  }
  if (d.pairs.empty()) throw std::runtime_error(name + ": no pairs");
  return d;
}

Dataset load_pair_list(const std::string& path, const std::string& root) {
  const std::string r = root.empty() ? fs::path(path).parent_path().string() : root;
  return parse_pair_list(read_text(path), r.empty() ? "." : r, path);
}

namespace {

void keep_largest(std::map<std::string, ImageScore>& out, std::map<std::string, double>& areas,
                  const std::string& image, const ImageScore& s, double area) {
  const auto it = areas.find(image);
  if (it == areas.end() || area > it->second) {
    areas[image] = area;
    out[image] = s;
  }
}

}  // namespace

std::map<std::string, ImageScore> parse_score_json(const std::string& text, const std::string& name) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    throw std::runtime_error(name + ": not valid JSON: " + e.what());
  }
  if (!j.is_array()) throw std::runtime_error(name + ": expected a JSON array of images");
  std::map<std::string, ImageScore> out;
  std::map<std::string, double> areas;
  for (const auto& image : j) {
    if (!image.contains("image") || !image.contains("faces")) continue;
    const std::string path = image["image"].get<std::string>();
    for (const auto& face : image["faces"]) {
      if (!face.contains("quality")) continue;
      ImageScore s;
      s.quality = face["quality"].get<double>();
      s.mean_similarity = face.value("mean_similarity", 0.0);
      s.std_similarity = face.value("std_similarity", 0.0);
      s.symmetry = face.value("symmetry", 0.0);
      if (face.contains("confidence")) s.confidence = face["confidence"].get<double>();
      if (face.contains("landmarks") && face["landmarks"].size() == 5) {
        std::array<double, 10> l{};
        for (size_t k = 0; k < 5; ++k) {
          l[2 * k] = face["landmarks"][k][0].get<double>();
          l[2 * k + 1] = face["landmarks"][k][1].get<double>();
        }
        s.landmarks = l;
      }
      double area = 0.0;  // an aligned face has no box: the only face
      if (face.contains("box")) area = face["box"][2].get<double>() * face["box"][3].get<double>();
      keep_largest(out, areas, path, s, area);
    }
  }
  return out;
}

std::map<std::string, ImageScore> parse_score_csv(const std::string& text, const std::string& name) {
  const std::vector<std::string> lines = lines_of(text);
  if (lines.empty()) throw std::runtime_error(name + ": empty");
  const std::vector<std::string> header = csv_fields(lines[0]);
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < header.size(); ++i) col[lower(header[i])] = i;
  for (const char* need : {"image", "quality"}) {
    if (!col.count(need)) throw std::runtime_error(name + ": no column \"" + need + "\"");
  }
  const auto number = [](const std::vector<std::string>& f, const std::map<std::string, size_t>& c,
                         const char* key) -> std::optional<double> {
    const auto it = c.find(key);
    if (it == c.end() || it->second >= f.size() || f[it->second].empty()) return std::nullopt;
    return std::stod(f[it->second]);
  };
  std::map<std::string, ImageScore> out;
  std::map<std::string, double> areas;
  for (size_t l = 1; l < lines.size(); ++l) {
    if (trim(lines[l]).empty()) continue;
    const std::vector<std::string> f = csv_fields(lines[l]);
    const auto q = number(f, col, "quality");
    if (!q) continue;  // an error row
    ImageScore s;
    s.quality = *q;
    s.mean_similarity = number(f, col, "mean_similarity").value_or(0.0);
    s.std_similarity = number(f, col, "std_similarity").value_or(0.0);
    s.symmetry = number(f, col, "symmetry").value_or(0.0);
    const double area = number(f, col, "width").value_or(0.0) * number(f, col, "height").value_or(0.0);
    keep_largest(out, areas, f[col["image"]], s, area);
  }
  return out;
}

std::map<std::string, ImageScore> load_score_file(const std::string& path) {
  const std::string text = read_text(path);
  const std::string ext = lower(fs::path(path).extension().string());
  if (ext == ".csv") return parse_score_csv(text, path);
  if (ext == ".json") return parse_score_json(text, path);
  const std::string t = trim(text);
  return (!t.empty() && t[0] == '[') ? parse_score_json(text, path) : parse_score_csv(text, path);
}

std::optional<ImageScore> find_score(const std::map<std::string, ImageScore>& scores,
                                     const std::string& root, const std::string& relative) {
  if (auto it = scores.find(relative); it != scores.end()) return it->second;
  const std::string joined = (fs::path(root) / relative).lexically_normal().string();
  if (auto it = scores.find(joined); it != scores.end()) return it->second;
  const std::string suffix = "/" + relative;
  for (const auto& [key, value] : scores) {
    if (key.size() > suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return value;
    }
  }
  return std::nullopt;
}

}  // namespace faceqan::eval
