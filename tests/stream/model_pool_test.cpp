// The element's model pool (model_pool.h): models are reused under the same key only, handed to
// one user at a time, bounded when idle, and a rewritten file gets a new identity.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "faceqan/stream/model_pool.h"
#include "test_support.h"

namespace faceqan {
namespace {

struct Model {
  int serial;
};

TEST(ModelPool, ReusesAModelGivenBackUnderTheSameKey) {
  ModelPool<Model> pool(4);
  int loads = 0;
  auto load = [&] { return std::make_shared<Model>(Model{++loads}); };
  std::shared_ptr<Model> a = pool.take("a", load);
  EXPECT_EQ(a->serial, 1);
  // In use: a second user of the same key gets its own model.
  std::shared_ptr<Model> b = pool.take("a", load);
  EXPECT_EQ(b->serial, 2);
  a.reset();
  EXPECT_EQ(pool.idle(), 1u);
  std::shared_ptr<Model> c = pool.take("a", load);
  EXPECT_EQ(c->serial, 1) << "the idle model comes back";
  EXPECT_EQ(pool.idle(), 0u);
  std::shared_ptr<Model> d = pool.take("other", load);
  EXPECT_EQ(d->serial, 3) << "another key never gets it";
  EXPECT_EQ(pool.loaded(), 3u);
  EXPECT_EQ(pool.reused(), 1u);
}

TEST(ModelPool, GivesBackWhenTheLastCopyGoes) {
  ModelPool<Model> pool(4);
  std::shared_ptr<Model> a = pool.take("a", [] { return std::make_shared<Model>(Model{1}); });
  std::shared_ptr<Model> copy = a;
  a.reset();
  EXPECT_EQ(pool.idle(), 0u);
  copy.reset();
  EXPECT_EQ(pool.idle(), 1u);
}

TEST(ModelPool, KeepsAtMostMaxIdleModelsTheMostRecent) {
  ModelPool<Model> pool(2);
  int loads = 0;
  auto load = [&] { return std::make_shared<Model>(Model{++loads}); };
  {
    auto a = pool.take("a", load), b = pool.take("b", load), c = pool.take("c", load);
    a.reset();  // given back first: dropped when the pool overflows
    b.reset();
    c.reset();
  }
  EXPECT_EQ(pool.idle(), 2u);
  EXPECT_EQ(pool.take("a", load)->serial, 4) << "a was dropped";
  EXPECT_EQ(pool.take("c", load)->serial, 3) << "c was kept";
}

TEST(ModelPool, AFailedLoadPassesItsErrorAndKeepsNothing) {
  ModelPool<Model> pool(2);
  EXPECT_THROW(pool.take("a", []() -> std::shared_ptr<Model> { throw std::runtime_error("bad"); }),
               std::runtime_error);
  EXPECT_EQ(pool.idle(), 0u);
  EXPECT_EQ(pool.loaded(), 0u);
}

TEST(FileIdentity, ChangesWhenTheFileIsRewrittenWithTheSameSize) {
  const std::string path = faceqan::test::scratch_dir("model-pool") + "/model.bin";
  std::ofstream(path, std::ios::binary) << "0123456789";
  const std::string before = file_identity(path);
  EXPECT_EQ(file_identity(path), before);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::ofstream(path, std::ios::binary | std::ios::trunc) << "abcdefghij";
  EXPECT_NE(file_identity(path), before);
  std::filesystem::remove(path);
  EXPECT_NE(file_identity(path).find("missing"), std::string::npos);
}

}  // namespace
}  // namespace faceqan
