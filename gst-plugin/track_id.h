// A track's id, shared by the tracker and the person gallery (which has no other need of the
// tracker or OpenCV).
#pragma once

#include <cstdint>

namespace faceqan::gst {

using TrackId = std::uint32_t;  // 0 is never a track: it means "no track"

}  // namespace faceqan::gst
