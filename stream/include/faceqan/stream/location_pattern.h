// best-location's path pattern: a file name with exactly one integer conversion for the track id
// (person-%05u.png). The pattern comes from a property, so it is checked before use instead of
// being handed to printf: any other conversion (%s, %n, two conversions, a length modifier)
// would read arguments that are not there.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace faceqan {

// Why the pattern is not usable, or nullopt if it is. Accepted: literal text, "%%", and exactly
// one conversion "%[flags][width]C" with flags from "0-+ #", a width of at most 3 digits, an
// optional precision ".N" of at most 3 digits and C one of d, i, u, x, X, o. A NUL byte anywhere
// makes it unusable.
std::optional<std::string> location_pattern_error(const std::string& pattern);

// The pattern with the track id in place of its conversion and "%%" as "%". The pattern must
// have passed location_pattern_error().
std::string format_location(const std::string& pattern, std::uint32_t track_id);

// "dir/person-00001.png" -> "dir/person-00001-frame.png" (or "...-frame" without an extension).
std::string with_frame_suffix(const std::string& path);

}  // namespace faceqan
