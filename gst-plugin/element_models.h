// The faceqan element's models: which files the settings name, and loading the detector and the
// recognizer (behind a SharedScorer) at READY->PAUSED, reusing what the process already holds.
// Failures are thrown; the element turns each into one GST_ELEMENT_ERROR (gstfaceqan.cpp).
#pragma once

#include <memory>
#include <string>

#include "element_settings.h"
#include "faceqan/face_detector.h"
#include "faceqan/quality.h"
#include "faceqan/stream/model_pool.h"
#include "faceqan/stream/shared_scorer.h"

namespace faceqan::gst {

// The loaded models, built from the settings at READY->PAUSED. The detector comes from the
// process's pool (faceqan/stream/model_pool.h); the recognizer and FaceQAN scorer live in a SharedScorer, shared
// with the other elements of the process that have the same scorer key (shared-scorer=true) or
// private. Its recognizer also comes from a pool, so a restart does not read the file again.
struct Models {
  std::string key;  // the settings and the model files' identities they were loaded with
  std::shared_ptr<RetinaFaceDetector> detector;
  std::shared_ptr<SharedScorer> scorer;
  cv::Size crop_size;
};

// The process's pools of idle models (faceqan/stream/model_pool.h); their counters go into the element's log.
ModelPool<RetinaFaceDetector>& detector_pool();
ModelPool<RecognitionModel>& recognizer_pool();

// The model files the settings name, and what identifies their contents now.
struct ModelFiles {
  std::string detector_path, recognizer_path;
  std::string detector_key, recognizer_key;  // pool keys
  std::string key;                           // Models::key
};

// Finds the files (throws faceqan::ModelLookupError if one is missing) and their identities.
ModelFiles resolve_model_files(const Settings& s);

// Loads the models `files` names with the settings `s` into `models`, which is left untouched if
// anything throws (faceqan::Error, faceqan::DetectorError, or another std::exception).
void load_models(Models& models, const Settings& s, const ModelFiles& files);

}  // namespace faceqan::gst
