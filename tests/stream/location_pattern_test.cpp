// best-location patterns: one integer conversion, nothing else; the frame suffix.
#include <gtest/gtest.h>

#include <optional>

#include "faceqan/stream/location_pattern.h"

namespace faceqan {
namespace {

TEST(LocationPattern, AcceptsOneIntegerConversion) {
  for (const char* good : {"person-%05u.png", "%u.png", "a/%x-%%.png", "id%d.jpg", "%i", "%X",
                           "%o", "%-3u", "%.4u", "100%%/p%u.png"}) {
    EXPECT_EQ(location_pattern_error(good), std::nullopt) << good;
  }
  EXPECT_EQ(format_location("enroll/person-%05u.png", 42), "enroll/person-00042.png");
  EXPECT_EQ(format_location("100%%/p%x.png", 255), "100%/pff.png");
  EXPECT_EQ(format_location("%d", 7), "7");
}

TEST(LocationPattern, RejectsEverythingElse) {
  for (const char* bad : {"%s.png", "%n", "%d%d", "%u-%s", "%%", "plain.png", "%lu", "%lld",
                          "%p", "%f", "%c", "%*d", "%1$u", "trailing%", "%999999999u", "%hhn"}) {
    const auto error = location_pattern_error(bad);
    EXPECT_NE(error, std::nullopt) << bad;
    if (error) EXPECT_FALSE(error->empty());
  }
  // Found by fuzz/location_pattern_fuzzer: a NUL byte passed as a flag or conversion letter, and
  // a 6-digit width was accepted but cut off at 63 characters.
  for (const std::string bad : {std::string("%-3\0u", 5), std::string("a\0%u", 4),
                                std::string("%1000u"), std::string("%.1000u")}) {
    EXPECT_NE(location_pattern_error(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(format_location("%999u", 1).size(), 999u);
  EXPECT_EQ(format_location("%#.999x", 1).size(), 1001u);
}

TEST(LocationPattern, FrameSuffixGoesBeforeTheExtension) {
  EXPECT_EQ(with_frame_suffix("enroll/person-00001.png"), "enroll/person-00001-frame.png");
  EXPECT_EQ(with_frame_suffix("a.b/person"), "a.b/person-frame");
  EXPECT_EQ(with_frame_suffix("person"), "person-frame");
}

}  // namespace
}  // namespace faceqan
