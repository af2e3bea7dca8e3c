// Internal: RetinaFace prior (anchor) boxes in network-input pixels.
#pragma once

#include "faceqan/retinaface_description.h"

#include <vector>

namespace faceqan::detail {

struct Prior {
  float centre_x;
  float centre_y;
  float size;  // square anchor side
};

// Priors in the order the network emits its rows: stride, row, column, anchor size.
std::vector<Prior> make_priors(const RetinaFaceDescription& description);

}  // namespace faceqan::detail
