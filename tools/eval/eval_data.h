// Data sets, pair lists and quality score files for `faceqan eval`. No OpenCV or LibTorch here.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace faceqan::eval {

struct ImagePair {
  size_t a = 0, b = 0;  // indices into Dataset::images
  bool genuine = false;
};

struct Dataset {
  std::string root;                 // images are root / images[i]
  std::vector<std::string> images;  // paths relative to root, unique, in first-use order
  std::vector<ImagePair> pairs;     // genuine and impostor pairs, in input order
  size_t identities = 0;            // identity folders (0 for a pair list)
  size_t impostor_pairs_available = 0;  // before sampling (identity folders)
};

// A folder of identity sub-folders (each holding that person's images; files directly in root
// and sub-folders with no image are ignored). Pairs: every genuine pair (within a folder, images
// in name order), then every impostor pair (across folders), or, when max_impostors > 0 and
// there are more, max_impostors of them drawn without replacement with the seed (kept in
// enumeration order). Throws std::runtime_error if the folder cannot be read.
Dataset load_identity_folders(const std::string& root, size_t max_impostors, std::uint64_t seed);

// A pair list. Formats (detected from the content):
// - CSV with a header naming file_x, file_y and Decision (Yes/No), e.g. deepface's master.csv;
//   CRLF line ends and a missing final newline are accepted;
// - LFW's pairs.txt: "name n1 n2" (same person: name/name_000n1.jpg and name/name_000n2.jpg) and
//   "name1 n1 name2 n2" (different people); a leading "folds pairs" count line is skipped;
// - three columns "image_a image_b same" with same 1/0 (or yes/no, true/false).
// Blank lines and lines starting with '#' are skipped. Image paths are relative to root (default:
// the list's folder). Throws std::runtime_error naming the file and line on a malformed line.
Dataset load_pair_list(const std::string& path, const std::string& root = "");

// Parses pair-list text (as load_pair_list, without reading a file). `name` is used in errors.
Dataset parse_pair_list(const std::string& text, const std::string& root, const std::string& name);

// One image's entry in a `faceqan score` output (the largest face for a photo with several).
struct ImageScore {
  double quality = 0.0;
  double mean_similarity = 0.0;
  double std_similarity = 0.0;
  double symmetry = 0.0;
  // From a JSON score file of photos: the face's detector confidence and five landmarks
  // (x0, y0, ..., x4, y4 in image pixels), so that eval can align the same face without detecting.
  std::optional<double> confidence;
  std::optional<std::array<double, 10>> landmarks;
};

// Reads the JSON or CSV written by `faceqan score` (format from the extension, else sniffed).
// Keys are the image paths as written in the file; images with an error or no face are absent.
// For several faces, the one with the largest box is kept. Throws std::runtime_error.
std::map<std::string, ImageScore> load_score_file(const std::string& path);
std::map<std::string, ImageScore> parse_score_json(const std::string& text, const std::string& name);
std::map<std::string, ImageScore> parse_score_csv(const std::string& text, const std::string& name);

// Finds the score of a data set image (path relative to the root): an entry whose path equals
// it, or equals root/path, or ends with "/" + path. nullopt when none matches.
std::optional<ImageScore> find_score(const std::map<std::string, ImageScore>& scores,
                                     const std::string& root, const std::string& relative);

// Splits one CSV line (fields trimmed; double quotes, "" inside quotes).
std::vector<std::string> csv_fields(const std::string& line);

}  // namespace faceqan::eval
