#include "faceqan/model_paths.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

namespace fs = std::filesystem;

namespace faceqan {
namespace {

// The folder of the executable or shared library this code is linked into.
fs::path own_module_dir() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&own_module_dir), &info) != 0 && info.dli_fname != nullptr) {
    std::error_code error;
    const fs::path module = fs::canonical(info.dli_fname, error);
    if (!error) return module.parent_path();
  }
  return {};
}

// A folder counts as prepared models only if the set-up left its marker there.
bool is_prepared(const fs::path& dir) { return fs::is_regular_file(dir / "PREPARED"); }

void add_unique(std::vector<std::string>& dirs, const fs::path& dir) {
  const std::string text = dir.lexically_normal().string();
  for (const auto& known : dirs) {
    if (known == text) return;
  }
  dirs.push_back(text);
}

}  // namespace

std::vector<std::string> model_search_path() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("FACEQAN_MODEL_PATH"); env != nullptr) {
    std::stringstream list(env);
    std::string entry;
    while (std::getline(list, entry, ':')) {
      if (!entry.empty() && fs::is_directory(entry)) add_unique(dirs, entry);
    }
  }
  // build/bin, build/lib/gstreamer-1.0, PREFIX/bin, PREFIX/lib/<triplet>/gstreamer-1.0: walking up
  // a few levels reaches build/models or PREFIX/share/faceqan/models from each of them.
  fs::path dir = own_module_dir();
  for (int level = 0; level < 4 && !dir.empty(); ++level) {
    for (const fs::path& candidate : {dir / "models", dir / "share" / "faceqan" / "models"}) {
      if (is_prepared(candidate)) add_unique(dirs, candidate);
    }
    if (dir == dir.parent_path()) break;
    dir = dir.parent_path();
  }
  return dirs;
}

std::string find_model(const std::string& name_or_path) {
  if (name_or_path.empty()) throw ModelLookupError("empty model name");
  if (fs::exists(name_or_path)) return name_or_path;
  const std::vector<std::string> dirs = model_search_path();
  if (fs::path(name_or_path).is_relative()) {
    for (const auto& dir : dirs) {
      const fs::path candidate = fs::path(dir) / name_or_path;
      if (fs::exists(candidate)) return candidate.string();
    }
  }
  std::ostringstream message;
  message << "model not found: " << name_or_path << " (searched:";
  if (dirs.empty()) message << " no prepared model folder; run models/prepare.sh or set FACEQAN_MODEL_PATH";
  for (const auto& dir : dirs) message << ' ' << dir;
  message << ')';
  throw ModelLookupError(message.str());
}

}  // namespace faceqan
