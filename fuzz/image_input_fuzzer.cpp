// Fuzz target: the faceqan CLI's image input path (tools/face_extraction.*). Bytes are an image
// file. As `faceqan detect` and `faceqan score` do: read_image() decodes it (OpenCV imread),
// then, if it decodes, RetinaFace detects faces and each one is aligned (the 8-bit crop of
// `detect` or the float RGB `score` reads, by the input's size parity); an image already at the
// model's input size also goes through to_rgb_float(). Properties: a bad file is a std::exception the CLI reports for that image
// only, never faceqan::Error (which stops a whole run) and never a crash; faces have finite
// boxes and crops of the requested size.
//
// The detector is the real one (detection/retinaface_mnet025_640.onnx, found like the CLI finds
// it: FACEQAN_MODEL_PATH, the build tree's models/). Without it the target still fuzzes the
// decoding and says so once.
#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <unistd.h>

#include "face_extraction.h"
#include "faceqan/quality.h"
#include "fuzz_target.h"

namespace {

const cv::Size kCropSize(112, 112);

struct Context {
  std::string path;  // where the bytes are written, so that read_image() reads a real file
  std::unique_ptr<faceqan::cli::FaceExtractor> extractor;
};

Context& context() {
  static Context* instance = [] {
    cv::setNumThreads(1);
    auto* created = new Context;
    const char* tmp = std::getenv("TMPDIR");
    created->path = std::string(tmp && *tmp ? tmp : "/tmp") + "/faceqan-image-fuzz-" +
                    std::to_string(getpid()) + ".img";
    std::atexit([] { std::remove(context().path.c_str()); });  // called once set up
    try {
      created->extractor =
          std::make_unique<faceqan::cli::FaceExtractor>(faceqan::cli::DetectOptions{}, kCropSize);
    } catch (const std::exception& error) {
      std::fprintf(stderr, "image_input_fuzzer: no detector (%s): decoding only\n", error.what());
    }
    return created;
  }();
  return *instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Context& ctx = context();
  {
    std::ofstream file(ctx.path, std::ios::binary | std::ios::trunc);
    file.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  cv::Mat bgr;
  try {
    bgr = faceqan::cli::read_image(ctx.path);
  } catch (const faceqan::Error& error) {
    FUZZ_CHECK(false, "read_image threw faceqan::Error: %s", error.what());
  } catch (const std::exception& error) {
    FUZZ_CHECK(error.what()[0] != '\0', "an empty reason for an unreadable image");
    return 0;
  }
  FUZZ_CHECK(!bgr.empty() && bgr.type() == CV_8UC3, "read_image gave type %d, %dx%d", bgr.type(),
             bgr.cols, bgr.rows);
  if (bgr.size() == kCropSize) {
    const std::vector<float> rgb = faceqan::cli::to_rgb_float(bgr);
    FUZZ_CHECK(rgb.size() == bgr.total() * 3, "to_rgb_float gave %zu values", rgb.size());
  }
  if (!ctx.extractor) return 0;
  // Detection is most of the time an input takes: one pass per input, `faceqan score`'s (float
  // crops) for even sizes and `faceqan detect`'s (8-bit crops) for odd ones.
  {
    const bool with_float = size % 2 == 0;
    std::vector<faceqan::cli::ExtractedFace> faces;
    try {
      faces = ctx.extractor->extract(bgr, with_float);
    } catch (const faceqan::Error& error) {
      FUZZ_CHECK(false, "extract threw faceqan::Error: %s", error.what());
    } catch (const std::exception& error) {
      FUZZ_CHECK(error.what()[0] != '\0', "an empty reason for a failed detection");
      return 0;
    }
    for (const auto& face : faces) {
      for (float v : face.box) FUZZ_CHECK(std::isfinite(v), "box value %g", static_cast<double>(v));
      if (with_float) {
        FUZZ_CHECK(face.aligned_rgb.size() == static_cast<size_t>(kCropSize.area()) * 3,
                   "aligned_rgb has %zu values", face.aligned_rgb.size());
      } else {
        FUZZ_CHECK(face.aligned_bgr.size() == kCropSize && face.aligned_bgr.type() == CV_8UC3,
                   "aligned crop %dx%d type %d", face.aligned_bgr.cols, face.aligned_bgr.rows,
                   face.aligned_bgr.type());
      }
    }
  }
  return 0;
}
