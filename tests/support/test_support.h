// Helpers shared by the tests: where the real data and models are, failing loudly when absent.
#pragma once

#include <string>
#include <vector>

namespace faceqan::test {

// FACEQAN_DATA_DIR (set by CTest to ../shared/data). Fails the current test if unset or missing.
std::string data_dir();
// A file under data_dir(); the calling test fails (ADD_FAILURE) with its path if it does not exist.
std::string data_file(const std::string& relative);
// A prepared model under FACEQAN_MODEL_PATH, e.g. "recognition/mobilefacenet512_faceplugin.onnx".
std::string model_file(const std::string& relative);
// The build folder (FACEQAN_BUILD_DIR).
std::string build_dir();
// Sorted regular files in a directory with one of the extensions (".jpg", ".png", ...).
std::vector<std::string> list_images(const std::string& dir);
// What a program printed and how it ended.
struct CommandResult {
  int status = -1;  // exit status, or -1 if it did not exit normally
  std::string out;
  std::string err;
};

// Runs build/bin/faceqan with arguments (already shell-quoted where needed), capturing stdout and
// stderr; `scratch` names the scratch folder that keeps its stderr.
CommandResult run_faceqan(const std::string& arguments, const std::string& scratch = "cli-run");

// A fresh empty directory for one test's files, inside a temporary folder of this test process
// (under $TMPDIR, removed when the process exits): never in the source or build tree.
std::string scratch_dir(const std::string& name);

}  // namespace faceqan::test
