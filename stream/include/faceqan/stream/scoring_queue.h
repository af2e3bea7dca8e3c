// The element's ordered scoring queue: frames (with the aligned faces they carry) and other items
// (events) enter in stream order; a worker takes the waiting faces in batches, scores them, hands
// the results back, and takes finished items out in the order they came in.
//
// Plain C++ (no GStreamer) so that the batching and overload rules have their own unit test.
// One producer (the element's streaming thread) and one worker (the src pad's task).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace faceqan {

// What happens to a frame that arrives while the queue is full.
enum class OverloadPolicy {
  kBlock,  // wait for room: back-pressure upstream (files)
  kSkip,   // let the frame through without scoring its faces (live sources)
  kDrop,   // drop the frame
};

// How an arriving frame is admitted.
enum class Admission {
  kScore,     // there is room: detect, align and queue the faces for scoring
  kSkip,      // full, policy skip: queue the frame without faces to score
  kDrop,      // full, policy drop: the caller drops the frame
  kFlushing,  // the queue is flushing or stopped: the caller returns FLUSHING
};

struct QueueLimits {
  std::size_t batch_size = 8;  // the most faces scored together
  std::chrono::milliseconds max_latency{200};  // the longest a face waits for a fuller batch
  std::size_t capacity = 8;    // the most frames held (waiting, being scored or behind them)
  OverloadPolicy overload = OverloadPolicy::kBlock;
};

// One aligned face's pixels and its noise key, as the scorer wants them.
struct PendingFace {
  std::vector<float> pixels;
  std::uint64_t key = 0;
};

// Payload: a move-only handle the element owns (a buffer or an event); destroyed with the item
// when the queue is flushed. Result: one face's score.
template <class Payload, class Result>
class ScoringQueue {
 public:
  using Clock = std::chrono::steady_clock;

  // Faces handed to the worker; `owners` says which item and face each came from.
  struct Batch {
    std::uint64_t generation = 0;
    std::vector<std::pair<std::uint64_t, std::size_t>> owners;  // (item sequence, face index)
    std::vector<PendingFace> faces;
  };

  // An item whose faces are all scored, leaving in order.
  struct Finished {
    Payload payload;
    bool is_frame = false;
    std::vector<Result> results;  // one per face queued with the frame
    Clock::time_point arrival;
  };

  // What the worker should do next.
  struct Work {
    enum class Kind { kPush, kScore, kStop } kind = Kind::kStop;
    std::optional<Finished> finished;  // kPush
    Batch batch;                       // kScore
  };

  explicit ScoringQueue(QueueLimits limits = {}) : limits_(limits) {}

  void set_limits(const QueueLimits& limits) {
    std::lock_guard<std::mutex> lock(mutex_);
    limits_ = limits;
    if (limits_.batch_size == 0) limits_.batch_size = 1;
    if (limits_.capacity == 0) limits_.capacity = 1;
    changed_.notify_all();
  }

  // Producer: decides what to do with the next frame before any work is spent on it. With the
  // block policy it waits for room (or for flushing).
  Admission admit_frame() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (flushing_) return Admission::kFlushing;
    if (frames_ < limits_.capacity) return Admission::kScore;
    switch (limits_.overload) {
      case OverloadPolicy::kSkip: return Admission::kSkip;
      case OverloadPolicy::kDrop: return Admission::kDrop;
      case OverloadPolicy::kBlock: break;
    }
    producer_waiting_ = true;
    changed_.notify_all();  // a full queue will get no more faces: the worker need not wait
    changed_.wait(lock, [this] { return flushing_ || frames_ < limits_.capacity; });
    producer_waiting_ = false;
    return flushing_ ? Admission::kFlushing : Admission::kScore;
  }

  // Producer: queues a frame with the faces to score (none for a skipped frame or one without
  // faces). Returns false, destroying the payload, when flushing.
  bool push_frame(Payload payload, std::vector<PendingFace> faces) {
    return push(std::move(payload), true, std::move(faces));
  }

  // Producer: queues an item that needs no scoring (an event); it leaves after everything
  // queued before it, and makes the worker score what is waiting now rather than wait for more.
  bool push_item(Payload payload) { return push(std::move(payload), false, {}); }

  // Worker: blocks until there is something to do.
  Work next() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      if (flushing_) return Work{};
      if (!items_.empty() && items_.front().remaining == 0) return pop_front(lock);
      if (waiting_faces_ > 0) {
        const Clock::time_point deadline = oldest_waiting_arrival() + limits_.max_latency;
        if (should_score_now(deadline)) return Work{Work::Kind::kScore, std::nullopt, take_batch()};
        changed_.wait_until(lock, deadline);
      } else {
        changed_.wait(lock);
      }
    }
  }

  // Worker: hands back a batch's results (one per face, in the batch's order). Results of a
  // batch taken before a flush are discarded.
  void complete(const Batch& batch, std::vector<Result> results) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (batch.generation != generation_) return;
    for (std::size_t i = 0; i < batch.owners.size() && i < results.size(); ++i) {
      Item* item = find(batch.owners[i].first);
      if (item == nullptr) continue;
      item->results[batch.owners[i].second] = std::move(results[i]);
      --item->remaining;
    }
    changed_.notify_all();
  }

  // Starts or ends flushing. Starting wakes every waiter (they return kFlushing / kStop) and
  // discards all items; ending lets items in again.
  void set_flushing(bool flushing) {
    std::deque<Item> discarded;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      flushing_ = flushing;
      if (flushing) {
        discarded.swap(items_);
        frames_ = 0;
        waiting_faces_ = 0;
        ++generation_;
      }
      changed_.notify_all();
    }
    // Payloads are released here, outside the lock.
  }

  // Waits until every queued item has left (scoring what waits without delay). Returns false if
  // flushing started meanwhile. For serialized queries that must not overtake queued frames.
  bool drain() {
    std::unique_lock<std::mutex> lock(mutex_);
    ++draining_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return flushing_ || items_.empty(); });
    --draining_;
    return !flushing_;
  }

  std::size_t frames() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return frames_;
  }
  std::size_t waiting_faces() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return waiting_faces_;
  }
  bool empty() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return items_.empty();
  }

 private:
  struct Item {
    std::uint64_t sequence = 0;
    bool is_frame = false;
    Payload payload;
    std::vector<PendingFace> faces;
    std::size_t handed = 0;     // faces given to the worker so far
    std::size_t remaining = 0;  // faces not yet scored
    std::vector<Result> results;
    Clock::time_point arrival;
  };

  bool push(Payload payload, bool is_frame, std::vector<PendingFace> faces) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (flushing_) return false;
    Item item{next_sequence_++, is_frame, std::move(payload), std::move(faces), 0, 0, {}, Clock::now()};
    item.remaining = item.faces.size();
    item.results.resize(item.faces.size());
    waiting_faces_ += item.faces.size();
    if (is_frame) ++frames_;
    items_.push_back(std::move(item));
    changed_.notify_all();
    return true;
  }

  Work pop_front(std::unique_lock<std::mutex>&) {
    Item& item = items_.front();
    Work work{Work::Kind::kPush,
              Finished{std::move(item.payload), item.is_frame, std::move(item.results), item.arrival},
              {}};
    if (item.is_frame) --frames_;
    items_.pop_front();
    changed_.notify_all();  // room for a blocked producer, progress for drain()
    return work;
  }

  Clock::time_point oldest_waiting_arrival() const {
    for (const Item& item : items_) {
      if (item.handed < item.faces.size()) return item.arrival;
    }
    return Clock::now();
  }

  // Whether waiting for more faces would be pointless or too long.
  bool should_score_now(Clock::time_point deadline) const {
    if (waiting_faces_ >= limits_.batch_size) return true;
    if (Clock::now() >= deadline) return true;
    if (producer_waiting_ || draining_ > 0 || frames_ >= limits_.capacity) return true;
    // An event behind waiting faces (EOS above all) must not wait for frames that may never come.
    return !items_.back().is_frame;
  }

  Batch take_batch() {
    Batch batch;
    batch.generation = generation_;
    for (Item& item : items_) {
      while (item.handed < item.faces.size() && batch.faces.size() < limits_.batch_size) {
        batch.owners.emplace_back(item.sequence, item.handed);
        batch.faces.push_back(std::move(item.faces[item.handed]));
        ++item.handed;
        --waiting_faces_;
      }
      if (batch.faces.size() >= limits_.batch_size) break;
    }
    return batch;
  }

  Item* find(std::uint64_t sequence) {
    for (Item& item : items_) {
      if (item.sequence == sequence) return &item;
    }
    return nullptr;
  }

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  QueueLimits limits_;
  std::deque<Item> items_;
  std::size_t frames_ = 0;
  std::size_t waiting_faces_ = 0;
  std::uint64_t next_sequence_ = 0;
  std::uint64_t generation_ = 0;
  bool flushing_ = false;
  bool producer_waiting_ = false;
  int draining_ = 0;
};

}  // namespace faceqan
