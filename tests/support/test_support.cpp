#include "test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>

#include <sys/wait.h>
#include <cstdlib>
#include <filesystem>

namespace fs = std::filesystem;

namespace faceqan::test {
namespace {

// This process's temporary folder, made on first use and removed with everything in it at exit.
class TemporaryRoot {
 public:
  TemporaryRoot() {
    std::string pattern = (fs::temp_directory_path() / "faceqan-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "cannot create a temporary folder from " << pattern;
    }
    path_ = pattern;
  }
  ~TemporaryRoot() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string env_dir(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    ADD_FAILURE() << name << " is not set: run the tests through ctest, which sets it";
    return {};
  }
  if (!fs::is_directory(value)) {
    ADD_FAILURE() << name << "=" << value << " is not a directory";
  }
  return value;
}

std::string existing_file(const std::string& dir, const std::string& relative, const char* what) {
  const std::string path = (fs::path(dir) / relative).string();
  if (!fs::exists(path)) {
    ADD_FAILURE() << "missing " << what << ": " << path;
  }
  return path;
}

}  // namespace

std::string data_dir() { return env_dir("FACEQAN_DATA_DIR"); }

std::string data_file(const std::string& relative) {
  return existing_file(data_dir(), relative, "test data (../shared/data)");
}

std::string model_file(const std::string& relative) {
  return existing_file(env_dir("FACEQAN_MODEL_PATH"), relative,
                       "prepared model (run models/prepare.sh or the set-up)");
}

std::string build_dir() { return env_dir("FACEQAN_BUILD_DIR"); }

std::vector<std::string> list_images(const std::string& dir) {
  std::vector<std::string> images;
  if (!fs::is_directory(dir)) {
    ADD_FAILURE() << "missing test data directory: " << dir;
    return images;
  }
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string ext = entry.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
    if (entry.is_regular_file() && (ext == ".jpg" || ext == ".jpeg" || ext == ".png")) {
      images.push_back(entry.path().string());
    }
  }
  std::sort(images.begin(), images.end());
  return images;
}

std::string scratch_dir(const std::string& name) {
  static const TemporaryRoot root;
  const fs::path dir = root.path() / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

CommandResult run_faceqan(const std::string& arguments, const std::string& scratch) {
  const std::string err_path = scratch_dir(scratch) + "/stderr.txt";
  const std::string command = build_dir() + "/bin/faceqan " + arguments + " 2>" + err_path;
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer{};
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.out.append(buffer.data(), n);
  const int status = pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(err_path);
  result.err.assign(std::istreambuf_iterator<char>(err), std::istreambuf_iterator<char>());
  return result;
}

}  // namespace faceqan::test
