// FaceQAN's parameters: the paper's defaults, and clear errors for bad values.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "faceqan/quality.h"

namespace {

std::string rejection(const faceqan::FaceQanSettings& settings) {
  try {
    settings.validate();
  } catch (const faceqan::Error& error) {
    EXPECT_EQ(error.code(), faceqan::ErrorCode::kInvalidArgument);
    return error.what();
  }
  return {};
}

TEST(Settings, DefaultsAreThePapers) {
  const faceqan::FaceQanSettings settings;
  EXPECT_DOUBLE_EQ(settings.epsilon, 0.001);
  EXPECT_EQ(settings.iterations, 5);
  EXPECT_EQ(settings.samples, 10);
  EXPECT_EQ(settings.exponent, 5);
  EXPECT_EQ(settings.seed, faceqan::kDefaultSeed);
  EXPECT_NO_THROW(settings.validate());
}

TEST(Settings, RejectsEachBadParameterByName) {
  faceqan::FaceQanSettings settings;
  for (double eps : {0.0, -0.1, 1.0, 2.0, std::numeric_limits<double>::quiet_NaN()}) {
    settings = {};
    settings.epsilon = eps;
    EXPECT_NE(rejection(settings).find("epsilon"), std::string::npos) << eps;
  }
  settings = {};
  settings.iterations = 0;
  EXPECT_NE(rejection(settings).find("iterations"), std::string::npos);
  settings = {};
  settings.samples = 1;
  EXPECT_NE(rejection(settings).find("samples"), std::string::npos);
  settings = {};
  settings.exponent = 0;
  EXPECT_NE(rejection(settings).find("exponent"), std::string::npos);
  settings = {};
  settings.seed = -2;
  EXPECT_NE(rejection(settings).find("seed"), std::string::npos);
}

TEST(Settings, AcceptsTheSmallestValidValues) {
  faceqan::FaceQanSettings settings;
  settings.epsilon = 1e-6;
  settings.iterations = 1;
  settings.samples = 2;
  settings.exponent = 1;
  settings.seed = faceqan::kRandomSeed;
  EXPECT_NO_THROW(settings.validate());
}

}  // namespace
