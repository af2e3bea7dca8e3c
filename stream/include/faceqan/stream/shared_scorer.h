// One FaceQAN scorer shared by several streams (faceqan elements) in one process.
//
// A SharedScorer owns a scoring function (the recognition model and FaceQanScorer, in the
// element) and one worker thread. Each stream connects as a Client and submits jobs: the faces
// of its frames, with a callback for their results. The worker forms each batch from the faces
// of all clients, round-robin one face per client at a time starting after the client served
// last, so that a busy stream cannot starve a quiet one; within a client, faces are scored in the
// order they were submitted. A batch holds at most the largest batch size the connected clients
// asked for, and takes whatever is waiting when the worker becomes free (the clients decide how
// long their faces wait to be submitted together: the element's batch-size and max-latency).
//
// The registry (acquire) hands out one SharedScorer per key while anyone holds it (a weak_ptr
// cache): elements with the same model, device, threads and FaceQAN settings share it. The
// element builds the key (element_models.cpp: shared_scorer_key, docs/PERFORMANCE.md).
//
// Shutdown: Client::cancel() drops the client's jobs not yet taken and guarantees that none of
// its callbacks runs after it returns (faces already in the batch being scored are scored, and
// their results discarded); close() also disconnects. Neither waits for the batch being scored,
// so one stream stopping never blocks on, or breaks, the others. The last reference to the
// SharedScorer stops its worker (waiting for the batch in progress, if any).
//
// Plain C++ (no GStreamer), so that fairness, ordering and shutdown have their own unit tests.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "faceqan/quality.h"
#include "faceqan/stream/scoring_queue.h"  // PendingFace

namespace faceqan {

class SharedScorer : public std::enable_shared_from_this<SharedScorer> {
 public:
  using Clock = std::chrono::steady_clock;
  using Results = std::vector<FaceQuality>;
  // Scores one batch; result i is faces[i]'s. May throw (the error goes to the batch's jobs).
  using ScoreFunction = std::function<Results(const std::vector<PendingFace>& faces)>;

  // What a job's callback receives.
  struct Outcome {
    Results results;            // one per submitted face, in order (empty on error)
    std::string error;          // non-empty: scoring failed
    Clock::duration took{};     // the longest scoring time of the batches the job was part of
  };
  using Callback = std::function<void(Outcome)>;

  struct Counters {
    std::uint64_t batches = 0;
    std::uint64_t faces = 0;
    std::size_t largest_batch = 0;
    std::size_t largest_mix = 0;  // the most clients with faces in one batch
  };

  // What the owner wants to remember about the scorer (the element: the model's input size).
  struct Info {
    int input_width = 0;
    int input_height = 0;
    std::string description;
    // batch-size=0 (auto): faceqan::auto_batch_size for this scorer's device and settings.
    std::size_t auto_batch_size = 1;
    std::string auto_batch_reason;
  };

  class Client;

  explicit SharedScorer(ScoreFunction score);
  SharedScorer(ScoreFunction score, Info info);
  ~SharedScorer();
  SharedScorer(const SharedScorer&) = delete;
  SharedScorer& operator=(const SharedScorer&) = delete;

  // The scorer registered under `key`, or a new one from make() (called with the registry
  // locked, so that two streams starting together load the model once). make() may throw; the
  // exception reaches the caller and nothing is registered.
  static std::shared_ptr<SharedScorer> acquire(
      const std::string& key, const std::function<std::shared_ptr<SharedScorer>()>& make);

  // A new stream. batch_size: the most faces it wants scored together (at least 1).
  std::unique_ptr<Client> connect(std::size_t batch_size);

  const Info& info() const { return info_; }
  std::size_t clients() const;
  Counters counters() const;

 private:
  struct ClientState;
  struct Job;
  struct Slot {
    std::shared_ptr<Job> job;
    std::size_t face = 0;
  };

  void run();
  std::vector<Slot> take_batch();  // with mutex_ held
  std::size_t batch_limit() const;  // with mutex_ held
  void wait_for_delivery(std::unique_lock<std::mutex>& lock);

  ScoreFunction score_;
  const Info info_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::shared_ptr<ClientState>> clients_;  // in connection order
  std::size_t cursor_ = 0;  // the client the next batch starts with
  bool stopping_ = false;
  bool delivering_ = false;  // the worker is running callbacks (outside the mutex)
  Counters counters_;
  std::thread worker_;
};

// One stream's connection. Not copyable; destroying it closes it.
class SharedScorer::Client {
 public:
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Queues faces for scoring; done(outcome) runs on the worker thread once all are scored (or
  // scoring failed), unless cancel() or close() came first. An empty job is answered at once,
  // on the calling thread. Returns false (and never calls done) once closed.
  bool submit(std::vector<PendingFace> faces, Callback done);

  // Drops the jobs not yet (fully) taken into a batch; results of jobs being scored are thrown
  // away. After it returns no callback of a job submitted before runs. Must not be called from
  // a callback.
  void cancel();

  // cancel(), then disconnects: submit() fails from now on.
  void close();

  void set_batch_size(std::size_t batch_size);
  // Faces submitted and not yet taken into a batch.
  std::size_t waiting_faces() const;
  SharedScorer& scorer() const { return *owner_; }

 private:
  friend class SharedScorer;
  Client(std::shared_ptr<SharedScorer> owner, std::shared_ptr<ClientState> state);
  std::shared_ptr<SharedScorer> owner_;
  std::shared_ptr<ClientState> state_;
};

}  // namespace faceqan
