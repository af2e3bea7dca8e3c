// Fuzz target: the element's best-location pattern check (stream/: faceqan/stream/location_pattern.h). Bytes
// are a pattern as a user would set it. Properties: the check never crashes; an accepted pattern
// formats exactly as printf formats it (the check promises that it is printf-safe), for any
// track id; with_frame_suffix() keeps the file name and adds "-frame".
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_target.h"
#include "faceqan/stream/location_pattern.h"

namespace {

std::string printf_reference(const std::string& pattern, std::uint32_t track_id, bool is_signed) {
  const int length = is_signed ? std::snprintf(nullptr, 0, pattern.c_str(), static_cast<int>(track_id))
                               : std::snprintf(nullptr, 0, pattern.c_str(), static_cast<unsigned>(track_id));
  if (length < 0) return "<printf failed>";
  std::vector<char> text(static_cast<size_t>(length) + 1);
  if (is_signed) {
    std::snprintf(text.data(), text.size(), pattern.c_str(), static_cast<int>(track_id));
  } else {
    std::snprintf(text.data(), text.size(), pattern.c_str(), static_cast<unsigned>(track_id));
  }
  return std::string(text.data(), static_cast<size_t>(length));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string pattern(reinterpret_cast<const char*>(data), size);
  const auto error = faceqan::location_pattern_error(pattern);
  if (error) {
    FUZZ_CHECK(!error->empty(), "an empty reason for rejecting a pattern");
    FUZZ_CHECK(faceqan::format_location(pattern, 1).empty(),
               "a rejected pattern was formatted");
    return 0;
  }
  // Embedded NULs end the string for printf: the reference only covers patterns without them.
  const bool comparable = pattern.find('\0') == std::string::npos;
  // The conversion letter decides how the id is passed (int for d and i).
  bool is_signed = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%') continue;
    if (pattern[i + 1] == '%') {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < pattern.size() && std::strchr("diuxXo", pattern[j]) == nullptr) ++j;
    is_signed = j < pattern.size() && (pattern[j] == 'd' || pattern[j] == 'i');
    break;
  }
  for (std::uint32_t id : {0u, 1u, 7u, 12345u, 2147483647u, 2147483648u, 4294967295u}) {
    const std::string path = faceqan::format_location(pattern, id);
    if (comparable) {
      const std::string expected = printf_reference(pattern, id, is_signed);
      FUZZ_CHECK(path == expected, "pattern \"%s\", id %u: got \"%s\" (%zu chars), printf gives %zu chars",
                 pattern.c_str(), id, path.c_str(), path.size(), expected.size());
    }
    const std::string framed = faceqan::with_frame_suffix(path);
    FUZZ_CHECK(framed.size() == path.size() + 6 && framed.find("-frame") != std::string::npos,
               "with_frame_suffix(\"%s\") = \"%s\"", path.c_str(), framed.c_str());
  }
  return 0;
}
