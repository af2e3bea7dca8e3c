# The fuzz targets and what each compiles and links besides its own <target>.cpp. Included by
# fuzz/CMakeLists.txt (libFuzzer build) and tests/fuzz/CMakeLists.txt (regression tests). A
# target whose part is switched off (FACEQAN_WITH_ONNX, FACEQAN_WITH_DETECTOR) is left out.
set(FACEQAN_FUZZ_TARGETS location_pattern_fuzzer)

# The element's best-location pattern check: the file alone, no GStreamer.
set(FACEQAN_FUZZ_location_pattern_fuzzer_SOURCES ${PROJECT_SOURCE_DIR}/stream/src/location_pattern.cpp)
set(FACEQAN_FUZZ_location_pattern_fuzzer_INCLUDES ${PROJECT_SOURCE_DIR}/stream/include)

if(FACEQAN_WITH_ONNX)
  list(APPEND FACEQAN_FUZZ_TARGETS model_description_fuzzer onnx_importer_fuzzer)
  set(FACEQAN_FUZZ_model_description_fuzzer_LIBS faceqan_model_io)
  set(FACEQAN_FUZZ_onnx_importer_fuzzer_LIBS faceqan_model_io)
endif()

# The CLI's image reading and face extraction, compiled from tools/ (the CLI itself is one
# executable); detect_command.h brings CLI11's header, faceqan/quality.h the (header-only)
# faceqan::Error class: no LibTorch.
if(FACEQAN_WITH_DETECTOR)
  find_package(OpenCV REQUIRED core imgproc imgcodecs)
  find_package(CLI11 CONFIG QUIET)
  if(CLI11_FOUND)
    list(APPEND FACEQAN_FUZZ_TARGETS image_input_fuzzer)
    set(FACEQAN_FUZZ_image_input_fuzzer_SOURCES ${PROJECT_SOURCE_DIR}/tools/face_extraction.cpp)
    set(FACEQAN_FUZZ_image_input_fuzzer_INCLUDES ${PROJECT_SOURCE_DIR}/tools
      ${PROJECT_SOURCE_DIR}/quality/include)
    set(FACEQAN_FUZZ_image_input_fuzzer_LIBS
      faceqan_detector faceqan_model_paths ${OpenCV_LIBS} CLI11::CLI11)
  endif()
endif()
