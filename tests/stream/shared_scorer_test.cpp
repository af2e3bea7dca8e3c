// The scorer shared by several streams (shared_scorer.h): fairness between streams, each
// stream's order, cancelling, a stream leaving mid-batch, shutdown with jobs pending, errors and
// the registry. Plain C++: a fake scoring function whose "quality" is the face's key.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "faceqan/stream/shared_scorer.h"

namespace faceqan {
namespace {

using namespace std::chrono_literals;

// Holds the scorer inside a batch until opened; records every batch's keys.
class FakeModel {
 public:
  SharedScorer::ScoreFunction function() {
    return [this](const std::vector<PendingFace>& faces) {
      std::vector<std::uint64_t> keys;
      for (const PendingFace& face : faces) keys.push_back(face.key);
      std::unique_lock<std::mutex> lock(mutex_);
      batches_.push_back(keys);
      ++entered_;
      changed_.notify_all();
      changed_.wait(lock, [this] { return allowed_ != 0; });
      if (allowed_ > 0) --allowed_;
      if (fail_) throw std::runtime_error("model exploded");
      SharedScorer::Results results(faces.size());
      for (std::size_t i = 0; i < faces.size(); ++i) results[i].quality = static_cast<double>(faces[i].key);
      return results;
    };
  }
  // Open: every batch finishes at once; closed: batches wait (for release()).
  void set_open(bool open) {
    std::lock_guard<std::mutex> lock(mutex_);
    allowed_ = open ? -1 : 0;
    changed_.notify_all();
  }
  void release(int batches) {
    std::lock_guard<std::mutex> lock(mutex_);
    allowed_ += batches;
    changed_.notify_all();
  }
  void set_fail(bool fail) {
    std::lock_guard<std::mutex> lock(mutex_);
    fail_ = fail;
  }
  // Waits until the scorer has entered `count` batches.
  bool wait_entered(int count) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return entered_ >= count; });
  }
  std::vector<std::vector<std::uint64_t>> batches() {
    std::lock_guard<std::mutex> lock(mutex_);
    return batches_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int allowed_ = -1;  // batches that may finish; -1: all
  bool fail_ = false;
  int entered_ = 0;
  std::vector<std::vector<std::uint64_t>> batches_;
};

std::vector<PendingFace> faces(std::uint64_t first, std::size_t count) {
  std::vector<PendingFace> result(count);
  for (std::size_t i = 0; i < count; ++i) result[i].key = first + i;
  return result;
}

// Collects the outcomes of one client's jobs, in the order they arrive.
struct Collector {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<SharedScorer::Outcome> outcomes;

  SharedScorer::Callback callback() {
    return [this](SharedScorer::Outcome outcome) {
      std::lock_guard<std::mutex> lock(mutex);
      outcomes.push_back(std::move(outcome));
      changed.notify_all();
    };
  }
  bool wait_for(std::size_t count) {
    std::unique_lock<std::mutex> lock(mutex);
    return changed.wait_for(lock, 10s, [&] { return outcomes.size() >= count; });
  }
  std::size_t size() {
    std::lock_guard<std::mutex> lock(mutex);
    return outcomes.size();
  }
};

std::uint64_t stream_of(std::uint64_t key) { return key / 1000; }

TEST(SharedScorer, ScoresEveryFaceInSubmissionOrder) {
  FakeModel model;
  auto scorer = std::make_shared<SharedScorer>(model.function());
  Collector got;
  auto client = scorer->connect(4);
  ASSERT_TRUE(client->submit(faces(0, 3), got.callback()));
  ASSERT_TRUE(client->submit(faces(3, 6), got.callback()));  // split over two batches
  ASSERT_TRUE(client->submit(faces(9, 1), got.callback()));
  ASSERT_TRUE(got.wait_for(3));
  std::uint64_t next = 0;
  for (const auto& outcome : got.outcomes) {
    EXPECT_TRUE(outcome.error.empty());
    for (const FaceQuality& q : outcome.results) EXPECT_EQ(q.quality, static_cast<double>(next++));
  }
  EXPECT_EQ(next, 10u);
  for (const auto& batch : model.batches()) EXPECT_LE(batch.size(), 4u);
}

TEST(SharedScorer, EmptyJobIsAnsweredAtOnce) {
  FakeModel model;
  auto scorer = std::make_shared<SharedScorer>(model.function());
  Collector got;
  auto client = scorer->connect(4);
  ASSERT_TRUE(client->submit({}, got.callback()));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got.outcomes[0].results.empty());
  EXPECT_TRUE(model.batches().empty());
}

// While the scorer is busy, a stream with many faces and two with few queue up: each batch
// then takes one face per stream in turn, so the quiet streams are done within a round or two
// instead of waiting behind the busy one; every stream's faces keep their order.
TEST(SharedScorer, BatchesAreFairRoundRobinAcrossStreams) {
  FakeModel model;
  auto scorer = std::make_shared<SharedScorer>(model.function());
  Collector got_a, got_b, got_c;
  auto a = scorer->connect(4), b = scorer->connect(4), c = scorer->connect(4);
  model.set_open(false);
  ASSERT_TRUE(a->submit(faces(1000, 1), got_a.callback()));
  ASSERT_TRUE(model.wait_entered(1));  // the scorer is busy with a's first face
  ASSERT_TRUE(a->submit(faces(1001, 12), got_a.callback()));
  ASSERT_TRUE(b->submit(faces(2000, 2), got_b.callback()));
  ASSERT_TRUE(c->submit(faces(3000, 3), got_c.callback()));
  model.set_open(true);
  ASSERT_TRUE(got_a.wait_for(2));
  ASSERT_TRUE(got_b.wait_for(1));
  ASSERT_TRUE(got_c.wait_for(1));

  const auto batches = model.batches();
  ASSERT_GE(batches.size(), 5u);  // 1 + 17 faces in batches of at most 4
  // After a's face, the next batch starts with b: b, c, a, b.
  EXPECT_EQ(batches[1], (std::vector<std::uint64_t>{2000, 3000, 1001, 2001}));
  // Then c (the one after the last served), a, c, a.
  EXPECT_EQ(batches[2], (std::vector<std::uint64_t>{3001, 1002, 3002, 1003}));
  std::map<std::uint64_t, std::uint64_t> last;
  for (const auto& batch : batches) {
    EXPECT_LE(batch.size(), 4u);
    for (std::uint64_t key : batch) {
      auto it = last.find(stream_of(key));
      if (it != last.end()) EXPECT_GT(key, it->second) << "stream order broken at " << key;
      last[stream_of(key)] = key;
    }
  }
  EXPECT_EQ(scorer->counters().largest_mix, 3u);
  EXPECT_EQ(scorer->counters().faces, 18u);
}

TEST(SharedScorer, BatchLimitIsTheLargestClientBatchSize) {
  FakeModel model;
  auto scorer = std::make_shared<SharedScorer>(model.function());
  Collector got;
  auto a = scorer->connect(2), b = scorer->connect(6);
  model.set_open(false);
  ASSERT_TRUE(a->submit(faces(0, 1), got.callback()));
  ASSERT_TRUE(model.wait_entered(1));
  ASSERT_TRUE(a->submit(faces(1000, 10), got.callback()));
  model.set_open(true);
  ASSERT_TRUE(got.wait_for(2));
  EXPECT_EQ(model.batches()[1].size(), 6u);
  b->close();
  EXPECT_EQ(scorer->clients(), 1u);
}

// cancel() (a flush) must not wait for the batch being scored, and afterwards none of the
// cancelled jobs is answered; other streams are not affected, and the stream goes on.
TEST(SharedScorer, CancelDropsTheStreamsJobsWithoutWaitingForTheBatch) {
  FakeModel model;
  auto scorer = std::make_shared<SharedScorer>(model.function());
  Collector got_a, got_b;
  auto a = scorer->connect(2), b = scorer->connect(2);
  model.set_open(false);
  ASSERT_TRUE(a->submit(faces(1000, 1), got_a.callback()));
  ASSERT_TRUE(b->submit(faces(2000, 1), got_b.callback()));
  ASSERT_TRUE(model.wait_entered(1));  // a's and b's faces are being scored
  ASSERT_TRUE(a->submit(faces(1001, 3), got_a.callback()));
  ASSERT_TRUE(b->submit(faces(2001, 1), got_b.callback()));
  EXPECT_EQ(a->waiting_faces(), 3u);

  auto cancelled = std::async(std::launch::async, [&] { a->cancel(); });
  ASSERT_EQ(cancelled.wait_for(5s), std::future_status::ready) << "cancel() waited for scoring";
  EXPECT_EQ(a->waiting_faces(), 0u);
  model.set_open(true);
  ASSERT_TRUE(got_b.wait_for(2));
  // a goes on after its flush.
  ASSERT_TRUE(a->submit(faces(1100, 1), got_a.callback()));
  ASSERT_TRUE(got_a.wait_for(1));
  std::this_thread::sleep_for(50ms);
  ASSERT_EQ(got_a.size(), 1u);
  EXPECT_EQ(got_a.outcomes[0].results.at(0).quality, 1100.0);
  for (const auto& batch : model.batches()) {
    for (std::uint64_t key : batch) EXPECT_TRUE(key < 1001 || key > 1003) << key;
  }
}

// A stream that leaves while its faces share the batch being scored with another stream's: it
// does not wait for the batch, gets no callback, and the other stream gets its results.
TEST(SharedScorer, StreamLeavingMidBatch) {
  FakeModel model;
  auto scorer = std::make_shared<SharedScorer>(model.function());
  Collector got_a, got_b;
  auto a = scorer->connect(4), b = scorer->connect(4);
  model.set_open(false);
  ASSERT_TRUE(a->submit(faces(1000, 1), got_a.callback()));
  ASSERT_TRUE(model.wait_entered(1));
  ASSERT_TRUE(a->submit(faces(1001, 2), got_a.callback()));
  ASSERT_TRUE(b->submit(faces(2000, 2), got_b.callback()));
  model.release(1);  // the first batch finishes; the second (a and b mixed) will hold
  ASSERT_TRUE(got_a.wait_for(1));
  ASSERT_TRUE(model.wait_entered(2));
  EXPECT_EQ(model.batches()[1], (std::vector<std::uint64_t>{2000, 1001, 2001, 1002}));

  auto closed = std::async(std::launch::async, [&] { a.reset(); });
  ASSERT_EQ(closed.wait_for(5s), std::future_status::ready) << "leaving waited for scoring";
  EXPECT_EQ(scorer->clients(), 1u);
  model.set_open(true);
  ASSERT_TRUE(got_b.wait_for(1));
  EXPECT_EQ(got_b.outcomes[0].results.at(1).quality, 2001.0);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(got_a.size(), 1u);  // only the job answered before it left
}

TEST(SharedScorer, SubmitAfterCloseFails) {
  FakeModel model;
  auto scorer = std::make_shared<SharedScorer>(model.function());
  auto a = scorer->connect(4);
  a->close();
  Collector got;
  EXPECT_FALSE(a->submit(faces(0, 1), got.callback()));
  EXPECT_EQ(got.size(), 0u);
}

// Every stream leaves and the scorer goes while jobs are still queued and one is being scored:
// nothing hangs, no callback runs, and the last owner waits only for the batch in progress.
TEST(SharedScorer, ShutdownWithJobsPending) {
  FakeModel model;
  auto scorer = std::make_shared<SharedScorer>(model.function());
  Collector got;
  auto a = scorer->connect(2), b = scorer->connect(2);
  model.set_open(false);
  ASSERT_TRUE(a->submit(faces(1000, 2), got.callback()));
  ASSERT_TRUE(model.wait_entered(1));
  ASSERT_TRUE(a->submit(faces(1002, 5), got.callback()));
  ASSERT_TRUE(b->submit(faces(2000, 5), got.callback()));
  auto gone = std::async(std::launch::async, [&] {
    a.reset();
    b.reset();
    scorer.reset();  // the last reference: stops the worker
  });
  EXPECT_EQ(gone.wait_for(200ms), std::future_status::timeout);  // the batch is still running
  model.set_open(true);
  ASSERT_EQ(gone.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(got.size(), 0u);
  EXPECT_EQ(model.batches().size(), 1u);
}

TEST(SharedScorer, ScoringErrorReachesTheBatchsJobsAndTheScorerGoesOn) {
  FakeModel model;
  auto scorer = std::make_shared<SharedScorer>(model.function());
  Collector got_a, got_b;
  auto a = scorer->connect(8), b = scorer->connect(8);
  model.set_open(false);
  model.set_fail(true);
  ASSERT_TRUE(a->submit(faces(1000, 1), got_a.callback()));
  ASSERT_TRUE(model.wait_entered(1));
  model.set_fail(false);
  ASSERT_TRUE(b->submit(faces(2000, 1), got_b.callback()));
  model.set_fail(true);
  model.set_open(true);
  ASSERT_TRUE(got_a.wait_for(1));
  EXPECT_EQ(got_a.outcomes[0].error, "model exploded");
  EXPECT_TRUE(got_a.outcomes[0].results.empty());
  ASSERT_TRUE(got_b.wait_for(1));
  EXPECT_EQ(got_b.outcomes[0].error, "model exploded");
  model.set_fail(false);
  ASSERT_TRUE(b->submit(faces(2001, 1), got_b.callback()));
  ASSERT_TRUE(got_b.wait_for(2));
  EXPECT_TRUE(got_b.outcomes[1].error.empty());
}

// The registry hands out one scorer per key while anyone holds it, and a fresh one after.
TEST(SharedScorer, RegistrySharesByKeyWhileHeld) {
  FakeModel model;
  int made = 0;
  auto make = [&] {
    ++made;
    return std::make_shared<SharedScorer>(model.function());
  };
  auto first = SharedScorer::acquire("test-key-1", make);
  auto second = SharedScorer::acquire("test-key-1", make);
  auto other = SharedScorer::acquire("test-key-2", make);
  EXPECT_EQ(first, second);
  EXPECT_NE(first, other);
  EXPECT_EQ(made, 2);
  first.reset();
  second.reset();
  auto third = SharedScorer::acquire("test-key-1", make);
  EXPECT_EQ(made, 3);
  EXPECT_THROW(SharedScorer::acquire("test-key-3", []() -> std::shared_ptr<SharedScorer> {
                 throw std::runtime_error("no model");
               }),
               std::runtime_error);
  auto fourth = SharedScorer::acquire("test-key-3", make);  // nothing was registered
  EXPECT_EQ(made, 4);
}

// Many streams submitting from their own threads, some cancelling and leaving, while others
// carry on: every surviving stream gets every result, in order.
TEST(SharedScorer, ManyStreamsFromManyThreads) {
  FakeModel model;
  auto scorer = std::make_shared<SharedScorer>(model.function());
  constexpr int kStreams = 6, kJobs = 40;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int s = 0; s < kStreams; ++s) {
    threads.emplace_back([&, s] {
      Collector got;
      auto client = scorer->connect(1 + s % 4);
      for (int j = 0; j < kJobs; ++j) {
        client->submit(faces(1000 * (s + 1) + j * 3, 1 + j % 3), got.callback());
        if (s == 0 && j == kJobs / 2) client->cancel();
      }
      if (s == 1) return;  // leaves with jobs pending
      if (s == 0) return;
      if (!got.wait_for(kJobs)) ++failures;
      std::uint64_t expected = 1000 * (s + 1);
      for (int j = 0; j < kJobs; ++j) {
        const auto& results = got.outcomes[j].results;
        if (results.size() != static_cast<std::size_t>(1 + j % 3)) ++failures;
        for (std::size_t i = 0; i < results.size(); ++i) {
          if (results[i].quality != static_cast<double>(expected + i)) ++failures;
        }
        expected += 3;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
}

}  // namespace
}  // namespace faceqan
