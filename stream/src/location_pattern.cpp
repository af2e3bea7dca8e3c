#include "faceqan/stream/location_pattern.h"

#include <cctype>
#include <cstdio>
#include <cstring>
#include <vector>

namespace faceqan {
namespace {

// A pattern cut at its conversion: the text before and after ("%%" already undone) and the
// conversion itself ("%05u").
struct ParsedPattern {
  std::string before, conversion, after;
};

// Parses, or returns the reason it cannot.
std::optional<std::string> parse(const std::string& pattern, ParsedPattern* parsed) {
  // strchr() finds the terminating NUL too: a NUL byte would pass as a flag or a conversion
  // letter, and printf would then see the format end inside the conversion.
  if (pattern.find('\0') != std::string::npos) return std::string("the pattern contains a NUL byte");
  std::string* literal = &parsed->before;
  int conversions = 0;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%') {
      *literal += pattern[i];
      continue;
    }
    const std::size_t start = i++;
    if (i < pattern.size() && pattern[i] == '%') {
      *literal += '%';
      continue;
    }
    while (i < pattern.size() && std::strchr("0-+ #", pattern[i]) != nullptr) ++i;
    // At most 3 digits each for the width and the precision, as documented (a file name needs no
    // more, and the formatted number stays small).
    std::size_t width_digits = 0, precision_digits = 0;
    while (i < pattern.size() && std::isdigit(static_cast<unsigned char>(pattern[i]))) {
      ++i, ++width_digits;
    }
    if (i < pattern.size() && pattern[i] == '.') {
      ++i;
      while (i < pattern.size() && std::isdigit(static_cast<unsigned char>(pattern[i]))) {
        ++i, ++precision_digits;
      }
    }
    if (width_digits > 3 || precision_digits > 3) {
      return "the width or precision of \"" + pattern.substr(start, i - start) +
             "\" is too large (3 digits at most)";
    }
    if (i >= pattern.size()) return "the pattern ends inside a conversion";
    if (std::strchr("diuxXo", pattern[i]) == nullptr) {
      return "\"%" + pattern.substr(start + 1, i - start) +
             "\" is not allowed: only one integer conversion (%u, %d, %i, %x, %X, %o, e.g. "
             "%05u) for the track id, and %% for a percent sign";
    }
    if (++conversions > 1) return "more than one conversion: only one, for the track id";
    parsed->conversion = pattern.substr(start, i - start + 1);
    literal = &parsed->after;
  }
  if (conversions == 0) {
    return "no conversion for the track id (such as %05u): every track would overwrite the "
           "same file";
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> location_pattern_error(const std::string& pattern) {
  ParsedPattern parsed;
  return parse(pattern, &parsed);
}

std::string format_location(const std::string& pattern, std::uint32_t track_id) {
  ParsedPattern parsed;
  if (parse(pattern, &parsed)) return {};
  // Only the checked conversion ever reaches snprintf, with the argument it expects. A width or
  // precision of up to 999 fits the buffer: nothing is cut off.
  char number[1024];
  const char type = parsed.conversion.back();
  if (type == 'd' || type == 'i') {
    std::snprintf(number, sizeof number, parsed.conversion.c_str(), static_cast<int>(track_id));
  } else {
    std::snprintf(number, sizeof number, parsed.conversion.c_str(), static_cast<unsigned>(track_id));
  }
  return parsed.before + number + parsed.after;
}

std::string with_frame_suffix(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  const std::size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash) ||
      dot == (slash == std::string::npos ? 0 : slash + 1)) {
    return path + "-frame";
  }
  return path.substr(0, dot) + "-frame" + path.substr(dot);
}

}  // namespace faceqan
