#include "element_enums.h"

#include "element_settings.h"

namespace faceqan::gst {
namespace {

// Registers an enum type once per process (the values must outlive the process: static arrays).
GType register_enum_once(GType* type, const char* name, const GEnumValue* values) {
  if (g_once_init_enter(type)) g_once_init_leave(type, g_enum_register_static(name, values));
  return *type;
}

}  // namespace

GType overload_enum_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {static_cast<gint>(OverloadPolicy::kBlock),
       "Wait for room: back-pressure upstream (files)", "block"},
      {static_cast<gint>(OverloadPolicy::kSkip),
       "Pass the frame with its detections but unscored faces (scored=false; live sources)",
       "skip"},
      {static_cast<gint>(OverloadPolicy::kDrop), "Drop the frame", "drop"},
      {0, nullptr, nullptr}};
  return register_enum_once(&type, "GstFaceQanOverload", values);
}

GType precision_enum_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {static_cast<gint>(Precision::kFloat32), "IEEE float32 (TF32 off on CUDA)", "fp32"},
      {static_cast<gint>(Precision::kTF32),
       "float32 with TF32 tensor-core convolutions and products on CUDA; fp32 on the CPU", "tf32"},
      {static_cast<gint>(Precision::kFloat16),
       "The network in half precision (CUDA; not on Debian's CPU LibTorch)", "fp16"},
      {static_cast<gint>(Precision::kBFloat16),
       "The network in bfloat16 (CUDA on Ampere or later; CPUs with oneDNN bfloat16 support)",
       "bf16"},
      {static_cast<gint>(Precision::kAuto),
       "bf16 where the device has native bfloat16 (AVX512_BF16/AMX CPUs, Ampere or later GPUs), "
       "fp32 elsewhere; the choice is logged at INFO",
       "auto"},
      {0, nullptr, nullptr}};
  return register_enum_once(&type, "GstFaceQanPrecision", values);
}

GType mode_enum_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {static_cast<gint>(Mode::kAnnotate), "Pass every frame with its metadata", "annotate"},
      {static_cast<gint>(Mode::kDrop),
       "Pass only frames with at least one face of quality >= quality-threshold", "drop"},
      {0, nullptr, nullptr}};
  return register_enum_once(&type, "GstFaceQanMode", values);
}

GType scoring_enum_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {static_cast<gint>(Scoring::kEveryFace), "Score every face of every frame", "every-face"},
      {static_cast<gint>(Scoring::kBudget),
       "Score a track's first usable face, then only faces that may beat its best (budget-* "
       "properties); the others carry the track's latest score with scored=false",
       "budget"},
      {0, nullptr, nullptr}};
  return register_enum_once(&type, "GstFaceQanScoring", values);
}

}  // namespace faceqan::gst
