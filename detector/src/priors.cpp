#include "priors.h"

namespace faceqan::detail {

std::vector<Prior> make_priors(const RetinaFaceDescription& description) {
  std::vector<Prior> priors;
  const int width = description.input_size.width;
  const int height = description.input_size.height;
  for (size_t level = 0; level < description.steps.size(); ++level) {
    const int step = description.steps[level];
    // A partial cell at the border still gets anchors (ceil), as the network's feature map does.
    const int rows = (height + step - 1) / step;
    const int columns = (width + step - 1) / step;
    const auto& sizes = description.min_sizes[level];
    priors.reserve(priors.size() + static_cast<size_t>(rows) * columns * sizes.size());
    for (int row = 0; row < rows; ++row) {
      for (int column = 0; column < columns; ++column) {
        for (float size : sizes) {
          priors.push_back({(column + 0.5f) * step, (row + 0.5f) * step, size});
        }
      }
    }
  }
  return priors;
}

}  // namespace faceqan::detail
