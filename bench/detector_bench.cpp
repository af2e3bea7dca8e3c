// Milliseconds per frame for RetinaFace detection and ArcFace alignment at two video sizes,
// on 2 CPU threads. A real group photo (bbt1.jpg, 16:9, 4 faces) is resized to each size and
// detected at the full 640x640 input (letterboxed, as before input variants), at the input
// variant shaped like the frame, and at the 320-wide one that min_face_size 32 (640x360) or
// 96 (1920x1080) allows. Core-ms: the process's CPU time (all threads) per detection.
//
//   faceqan-bench-detector [MODEL.onnx [IMAGE]]
//
// Defaults: the prepared detection model (faceqan::find_model, when built with
// faceqan_model_paths), else <shared>/models/detection/retinaface_mnet025_640.onnx; IMAGE
// $FACEQAN_DATA_DIR/groups/bbt1.jpg, else <shared>/data/groups/bbt1.jpg, where <shared> is
// $FACEQAN_SHARED_DIR or the FACEQAN_SHARED_DIR definition given at build time.
#include "faceqan/face_alignment.h"
#include "faceqan/face_detector.h"

#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#if __has_include("faceqan/model_paths.h")
#include "faceqan/model_paths.h"
#define FACEQAN_BENCH_HAVE_MODEL_PATHS 1
#endif

#ifndef FACEQAN_SHARED_DIR
#define FACEQAN_SHARED_DIR "../shared"
#endif

namespace {

constexpr int kThreads = 2;
constexpr int kWarmUpRuns = 3;
constexpr int kDetectionRuns = 20;
constexpr int kAlignmentRuns = 200;

std::string shared_dir() {
  const char* from_environment = std::getenv("FACEQAN_SHARED_DIR");
  return from_environment != nullptr && *from_environment != '\0' ? from_environment
                                                                  : FACEQAN_SHARED_DIR;
}

std::string default_model() {
#ifdef FACEQAN_BENCH_HAVE_MODEL_PATHS
  try {
    return faceqan::find_model(faceqan::kDefaultDetectionModel);
  } catch (const faceqan::ModelLookupError&) {
    // Not prepared: fall back to the shared source folder below.
  }
#endif
  return shared_dir() + "/models/detection/retinaface_mnet025_640.onnx";
}

std::string default_image() {
  if (const char* data = std::getenv("FACEQAN_DATA_DIR"); data != nullptr && *data != '\0') {
    return std::string(data) + "/groups/bbt1.jpg";
  }
  return shared_dir() + "/data/groups/bbt1.jpg";
}

// Median wall-clock milliseconds of `runs` calls, after a few untimed warm-up calls.
double median_milliseconds(int runs, const std::function<void()>& work) {
  for (int i = 0; i < kWarmUpRuns; ++i) {
    work();
  }
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    work();
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  return times[times.size() / 2];
}

// CPU milliseconds (all the process's threads) per call, over `runs` calls after warm-up.
double cpu_milliseconds(int runs, const std::function<void()>& work) {
  for (int i = 0; i < kWarmUpRuns; ++i) {
    work();
  }
  const std::clock_t start = std::clock();
  for (int i = 0; i < runs; ++i) {
    work();
  }
  return 1000.0 * static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC / runs;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string model = argc > 1 ? argv[1] : default_model();
  const std::string image_path = argc > 2 ? argv[2] : default_image();
  cv::setNumThreads(kThreads);

  try {
    const cv::Mat photo = cv::imread(image_path, cv::IMREAD_COLOR);
    if (photo.empty()) {
      std::fprintf(stderr, "faceqan-bench-detector: cannot read image %s\n", image_path.c_str());
      return 1;
    }
    std::printf("model  %s\nimage  %s (%dx%d)\nthreads %d (cv::setNumThreads), median of %d "
                "detections / %d alignments\n\n",
                model.c_str(), image_path.c_str(), photo.cols, photo.rows, cv::getNumThreads(),
                kDetectionRuns, kAlignmentRuns);
    std::printf("| frame     | input     | faces | detect ms/frame | detect core-ms/frame | "
                "align 8-bit ms/frame | align RGB float ms/frame |\n");
    std::printf("|-----------|-----------|-------|-----------------|----------------------|"
                "----------------------|--------------------------|\n");

    faceqan::DetectorSettings letterboxed;
    letterboxed.fit_input_to_frame = false;
    faceqan::RetinaFaceDetector full(model, letterboxed);
    faceqan::RetinaFaceDetector fitted(model);
    for (const cv::Size size : {cv::Size(640, 360), cv::Size(1920, 1080)}) {
      cv::Mat frame;
      cv::resize(photo, frame, size, 0, 0, size.width < photo.cols ? cv::INTER_AREA
                                                                    : cv::INTER_LINEAR);
      faceqan::DetectorSettings small_settings;
      small_settings.min_face_size = 32.0f * size.width / 640;
      faceqan::RetinaFaceDetector small(model, small_settings);
      for (faceqan::RetinaFaceDetector* detector : {&full, &fitted, &small}) {
        const cv::Size input = detector->input_size_for(size);
        if (detector != &full && input == full.input_size_for(size)) continue;  // no variants
        if (detector == &small && input == fitted.input_size_for(size)) continue;
        std::vector<faceqan::DetectedFace> faces;
        const double detect_ms =
            median_milliseconds(kDetectionRuns, [&] { faces = detector->detect(frame); });
        const double detect_core_ms =
            cpu_milliseconds(kDetectionRuns, [&] { faces = detector->detect(frame); });

        cv::Mat crop;
        const double align_8bit_ms = median_milliseconds(kAlignmentRuns, [&] {
          for (const faceqan::DetectedFace& face : faces) {
            crop = faceqan::align_face(frame, face.landmarks);
          }
        });
        std::vector<float> rgb(faceqan::kArcFaceCrop.area() * 3);
        const double align_float_ms = median_milliseconds(kAlignmentRuns, [&] {
          for (const faceqan::DetectedFace& face : faces) {
            faceqan::align_face_to_rgb_float(frame, faceqan::PixelFormat::kBGR, face.landmarks,
                                             faceqan::kArcFaceCrop, rgb.data());
          }
        });
        std::printf("| %4dx%-4d | %4dx%-4d | %5zu | %15.2f | %20.2f | %20.3f | %24.3f |\n",
                    size.width, size.height, input.width, input.height, faces.size(), detect_ms,
                    detect_core_ms, align_8bit_ms, align_float_ms);
      }
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "faceqan-bench-detector: %s\n", error.what());
    return 1;
  }
  return 0;
}
