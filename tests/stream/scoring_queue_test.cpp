// The scoring queue without GStreamer: order, batching, the latency bound, overload and flushing.
#include "faceqan/stream/scoring_queue.h"

#include <gtest/gtest.h>

#include <future>
#include <string>
#include <thread>

namespace faceqan {
namespace {

using namespace std::chrono_literals;
using TestQueue = ScoringQueue<std::string, double>;

std::vector<PendingFace> faces(std::size_t n) {
  std::vector<PendingFace> result(n);
  for (std::size_t i = 0; i < n; ++i) result[i].key = i;
  return result;
}

QueueLimits limits(std::size_t batch, std::chrono::milliseconds latency, std::size_t capacity,
                   OverloadPolicy overload = OverloadPolicy::kBlock) {
  return QueueLimits{batch, latency, capacity, overload};
}

// Scores a batch with 0.5 per face and returns its size.
std::size_t score(TestQueue& queue) {
  TestQueue::Work work = queue.next();
  EXPECT_EQ(work.kind, TestQueue::Work::Kind::kScore);
  queue.complete(work.batch, std::vector<double>(work.batch.faces.size(), 0.5));
  return work.batch.faces.size();
}

std::string pop(TestQueue& queue) {
  TestQueue::Work work = queue.next();
  EXPECT_EQ(work.kind, TestQueue::Work::Kind::kPush);
  return work.finished ? work.finished->payload : "";
}

TEST(ScoringQueue, ItemsWithoutFacesLeaveAtOnceInOrder) {
  TestQueue queue(limits(4, 10s, 8));
  queue.push_item("caps");
  queue.push_frame("frame", {});
  EXPECT_EQ(pop(queue), "caps");
  EXPECT_EQ(pop(queue), "frame");
}

TEST(ScoringQueue, FullBatchIsScoredWithoutWaiting) {
  TestQueue queue(limits(3, 10s, 8));
  queue.push_frame("a", faces(2));
  queue.push_frame("b", faces(2));
  EXPECT_EQ(score(queue), 3u);  // a's two faces and b's first
  EXPECT_EQ(pop(queue), "a");   // a is complete; b waits for its second face
  EXPECT_EQ(queue.waiting_faces(), 1u);
}

TEST(ScoringQueue, PartialBatchWaitsForMaxLatency) {
  TestQueue queue(limits(8, 150ms, 8));
  queue.push_frame("a", faces(1));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(score(queue), 1u);
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, 140ms);
  EXPECT_LT(waited, 2s);
  EXPECT_EQ(pop(queue), "a");
}

TEST(ScoringQueue, EventBehindFacesScoresAtOnce) {
  TestQueue queue(limits(8, 10s, 8));
  queue.push_frame("a", faces(1));
  queue.push_item("eos");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(score(queue), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(pop(queue), "a");
  EXPECT_EQ(pop(queue), "eos");
}

TEST(ScoringQueue, ResultsReachTheirFramesInOrder) {
  TestQueue queue(limits(2, 10s, 8));
  queue.push_frame("a", faces(1));
  queue.push_frame("b", faces(0));
  queue.push_frame("c", faces(1));
  TestQueue::Work work = queue.next();
  ASSERT_EQ(work.kind, TestQueue::Work::Kind::kScore);
  ASSERT_EQ(work.batch.faces.size(), 2u);
  queue.complete(work.batch, {0.25, 0.75});
  for (const char* name : {"a", "b", "c"}) {
    TestQueue::Work out = queue.next();
    ASSERT_EQ(out.kind, TestQueue::Work::Kind::kPush);
    EXPECT_EQ(out.finished->payload, name);
    if (std::string(name) == "a") EXPECT_EQ(out.finished->results, std::vector<double>{0.25});
    if (std::string(name) == "c") EXPECT_EQ(out.finished->results, std::vector<double>{0.75});
  }
}

TEST(ScoringQueue, FullQueueSkipsOrDrops) {
  TestQueue skip(limits(8, 10s, 1, OverloadPolicy::kSkip));
  EXPECT_EQ(skip.admit_frame(), Admission::kScore);
  skip.push_frame("a", faces(1));
  EXPECT_EQ(skip.admit_frame(), Admission::kSkip);

  TestQueue drop(limits(8, 10s, 1, OverloadPolicy::kDrop));
  drop.push_frame("a", faces(1));
  EXPECT_EQ(drop.admit_frame(), Admission::kDrop);
}

TEST(ScoringQueue, FullQueueBlocksUntilAFrameLeaves) {
  TestQueue queue(limits(8, 10s, 1, OverloadPolicy::kBlock));
  queue.push_frame("a", faces(1));
  auto admitted = std::async(std::launch::async, [&queue] { return queue.admit_frame(); });
  EXPECT_EQ(admitted.wait_for(100ms), std::future_status::timeout);
  EXPECT_EQ(score(queue), 1u);  // a blocked producer means no more faces: score at once
  EXPECT_EQ(pop(queue), "a");
  EXPECT_EQ(admitted.get(), Admission::kScore);
}

TEST(ScoringQueue, FlushingWakesEveryoneAndDiscardsLateResults) {
  TestQueue queue(limits(8, 10s, 1, OverloadPolicy::kBlock));
  queue.push_frame("a", faces(1));
  queue.push_item("eos");
  TestQueue::Work work = queue.next();  // the batch is "being scored"
  ASSERT_EQ(work.kind, TestQueue::Work::Kind::kScore);
  auto admitted = std::async(std::launch::async, [&queue] { return queue.admit_frame(); });
  auto worker = std::async(std::launch::async, [&queue] { return queue.next().kind; });
  std::this_thread::sleep_for(50ms);
  queue.set_flushing(true);
  EXPECT_EQ(admitted.get(), Admission::kFlushing);
  EXPECT_EQ(worker.get(), TestQueue::Work::Kind::kStop);
  queue.complete(work.batch, {0.5});  // after the flush: ignored
  EXPECT_TRUE(queue.empty());
  EXPECT_FALSE(queue.push_frame("b", {}));

  queue.set_flushing(false);
  EXPECT_TRUE(queue.push_frame("c", {}));
  EXPECT_EQ(pop(queue), "c");
}

TEST(ScoringQueue, DrainWaitsForEverythingQueued) {
  TestQueue queue(limits(8, 10s, 8));
  queue.push_frame("a", faces(1));
  auto drained = std::async(std::launch::async, [&queue] { return queue.drain(); });
  EXPECT_EQ(score(queue), 1u);  // drain() asks for the waiting faces now
  EXPECT_EQ(pop(queue), "a");
  EXPECT_TRUE(drained.get());
}

}  // namespace
}  // namespace faceqan
