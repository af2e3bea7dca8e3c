// Writes the built-in RetinaFace description (matching retinaface_mnet025_640.onnx) as JSON, to
// the file given or to standard output. Used by the model preparation to put the sidecar
// "<model stem>.json" beside the model.
#include "faceqan/retinaface_description.h"

#include <iostream>

int main(int argc, char** argv) {
  if (argc > 2 || (argc == 2 && (std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help"))) {
    std::cerr << "usage: " << argv[0] << " [OUTPUT.json]\n"
              << "Writes the default RetinaFace description (stdout without OUTPUT).\n";
    return 2;
  }
  try {
    const faceqan::RetinaFaceDescription description = faceqan::default_retinaface_description();
    if (argc == 2) {
      faceqan::write_retinaface_description(description, argv[1]);
    } else {
      std::cout << faceqan::retinaface_description_json(description);
    }
  } catch (const std::exception& error) {
    std::cerr << argv[0] << ": " << error.what() << "\n";
    return 1;
  }
  return 0;
}
