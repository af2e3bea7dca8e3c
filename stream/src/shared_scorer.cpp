#include "faceqan/stream/shared_scorer.h"

#include <algorithm>
#include <deque>
#include <exception>
#include <map>
#include <set>
#include <utility>

namespace faceqan {

struct SharedScorer::ClientState {
  std::size_t batch_size = 1;
  std::deque<std::shared_ptr<Job>> jobs;  // jobs with faces not yet taken, oldest first
  std::uint64_t epoch = 0;  // bumped by cancel(): older jobs are not answered
  bool closed = false;
};

struct SharedScorer::Job {
  std::shared_ptr<ClientState> client;
  std::uint64_t epoch = 0;
  std::vector<PendingFace> faces;
  std::size_t taken = 0;      // faces handed to a batch so far
  std::size_t remaining = 0;  // faces not yet scored
  Results results;
  std::string error;
  Clock::duration took{};
  bool finished = false;
  Callback done;
};

SharedScorer::SharedScorer(ScoreFunction score) : SharedScorer(std::move(score), Info()) {}

SharedScorer::SharedScorer(ScoreFunction score, Info info)
    : score_(std::move(score)), info_(std::move(info)) {
  worker_ = std::thread([this] { run(); });
}

SharedScorer::~SharedScorer() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    changed_.notify_all();
  }
  worker_.join();
}

std::shared_ptr<SharedScorer> SharedScorer::acquire(
    const std::string& key, const std::function<std::shared_ptr<SharedScorer>()>& make) {
  // Never destroyed: elements may still let go of scorers while the process exits.
  static auto* registry_mutex = new std::mutex;
  static auto* registry = new std::map<std::string, std::weak_ptr<SharedScorer>>;
  std::lock_guard<std::mutex> lock(*registry_mutex);
  for (auto it = registry->begin(); it != registry->end();) {
    it = it->second.expired() ? registry->erase(it) : std::next(it);
  }
  if (auto found = registry->find(key); found != registry->end()) {
    if (std::shared_ptr<SharedScorer> scorer = found->second.lock()) return scorer;
  }
  std::shared_ptr<SharedScorer> made = make();
  if (made) (*registry)[key] = made;
  return made;
}

std::unique_ptr<SharedScorer::Client> SharedScorer::connect(std::size_t batch_size) {
  auto state = std::make_shared<ClientState>();
  state->batch_size = std::max<std::size_t>(batch_size, 1);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    clients_.push_back(state);
  }
  return std::unique_ptr<Client>(new Client(shared_from_this(), std::move(state)));
}

std::size_t SharedScorer::clients() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return clients_.size();
}

SharedScorer::Counters SharedScorer::counters() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return counters_;
}

std::size_t SharedScorer::batch_limit() const {
  std::size_t limit = 1;
  for (const auto& client : clients_) limit = std::max(limit, client->batch_size);
  return limit;
}

std::vector<SharedScorer::Slot> SharedScorer::take_batch() {
  std::vector<Slot> slots;
  const std::size_t n = clients_.size();
  if (n == 0) return slots;
  const std::size_t limit = batch_limit();
  cursor_ %= n;
  std::size_t last_served = n;
  // One face per client per round, starting with the client after the one served last.
  for (bool progress = true; progress && slots.size() < limit;) {
    progress = false;
    for (std::size_t i = 0; i < n && slots.size() < limit; ++i) {
      const std::size_t c = (cursor_ + i) % n;
      ClientState& client = *clients_[c];
      if (client.jobs.empty()) continue;
      const std::shared_ptr<Job> job = client.jobs.front();
      slots.push_back({job, job->taken++});
      if (job->taken == job->faces.size()) client.jobs.pop_front();
      last_served = c;
      progress = true;
    }
  }
  if (last_served < n) cursor_ = (last_served + 1) % n;
  return slots;
}

void SharedScorer::wait_for_delivery(std::unique_lock<std::mutex>& lock) {
  if (std::this_thread::get_id() == worker_.get_id()) return;  // from a callback: it is ours
  changed_.wait(lock, [this] { return !delivering_; });
}

void SharedScorer::run() {
  // The scorer runs at the streaming threads' priority. A lower one (nice +10 was tried) let a
  // saturated CPU starve it: scores stopped coming, frames waiting for them held the queue, and
  // an EOS behind them could not drain (docs/PERFORMANCE.md, "Live video in real time").
  std::unique_lock<std::mutex> lock(mutex_);
  auto waiting = [this] {
    return std::any_of(clients_.begin(), clients_.end(),
                       [](const auto& client) { return !client->jobs.empty(); });
  };
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || waiting(); });
    if (stopping_) break;
    std::vector<Slot> slots = take_batch();
    if (slots.empty()) continue;
    std::vector<PendingFace> faces;
    faces.reserve(slots.size());
    std::set<const ClientState*> mix;
    for (const Slot& slot : slots) {
      faces.push_back(std::move(slot.job->faces[slot.face]));
      mix.insert(slot.job->client.get());
    }
    counters_.batches += 1;
    counters_.faces += slots.size();
    counters_.largest_batch = std::max(counters_.largest_batch, slots.size());
    counters_.largest_mix = std::max(counters_.largest_mix, mix.size());
    lock.unlock();

    Results results;
    std::string error;
    const Clock::time_point start = Clock::now();
    try {
      results = score_(faces);
      if (results.size() != faces.size()) error = "the scorer returned the wrong number of results";
    } catch (const std::exception& e) {
      error = e.what();
      if (error.empty()) error = "scoring failed";
    } catch (...) {
      error = "scoring failed";
    }
    const Clock::duration took = Clock::now() - start;
    faces.clear();

    lock.lock();
    std::vector<std::shared_ptr<Job>> ready;
    for (std::size_t k = 0; k < slots.size(); ++k) {
      Job& job = *slots[k].job;
      if (job.finished) continue;
      job.took = std::max(job.took, took);
      if (!error.empty()) {
        job.finished = true;
        job.error = error;
        // Its faces not yet taken will not be scored.
        auto& pending = job.client->jobs;
        pending.erase(std::remove(pending.begin(), pending.end(), slots[k].job), pending.end());
      } else {
        job.results[slots[k].face] = std::move(results[k]);
        job.finished = --job.remaining == 0;
      }
      if (job.finished && !job.client->closed && job.epoch == job.client->epoch) {
        ready.push_back(slots[k].job);
      }
    }
    slots.clear();
    delivering_ = true;
    lock.unlock();
    for (const std::shared_ptr<Job>& job : ready) {
      Outcome outcome;
      outcome.error = job->error;
      if (job->error.empty()) outcome.results = std::move(job->results);
      outcome.took = job->took;
      try {
        job->done(std::move(outcome));
      } catch (...) {
        // A callback's failure is its own; the other streams go on.
      }
    }
    ready.clear();
    lock.lock();
    delivering_ = false;
    changed_.notify_all();
  }
}

SharedScorer::Client::Client(std::shared_ptr<SharedScorer> owner, std::shared_ptr<ClientState> state)
    : owner_(std::move(owner)), state_(std::move(state)) {}

SharedScorer::Client::~Client() { close(); }

bool SharedScorer::Client::submit(std::vector<PendingFace> faces, Callback done) {
  auto job = std::make_shared<Job>();
  {
    std::lock_guard<std::mutex> lock(owner_->mutex_);
    if (state_->closed) return false;
    if (!faces.empty()) {
      job->client = state_;
      job->epoch = state_->epoch;
      job->remaining = faces.size();
      job->results.resize(faces.size());
      job->faces = std::move(faces);
      job->done = std::move(done);
      state_->jobs.push_back(std::move(job));
      owner_->changed_.notify_all();
      return true;
    }
  }
  done(Outcome{});
  return true;
}

void SharedScorer::Client::cancel() {
  std::deque<std::shared_ptr<Job>> dropped;  // released outside the lock
  std::unique_lock<std::mutex> lock(owner_->mutex_);
  ++state_->epoch;
  dropped.swap(state_->jobs);
  owner_->wait_for_delivery(lock);
}

void SharedScorer::Client::close() {
  std::deque<std::shared_ptr<Job>> dropped;
  std::unique_lock<std::mutex> lock(owner_->mutex_);
  if (state_->closed) return;
  ++state_->epoch;
  state_->closed = true;
  dropped.swap(state_->jobs);
  auto& clients = owner_->clients_;
  clients.erase(std::remove(clients.begin(), clients.end(), state_), clients.end());
  owner_->wait_for_delivery(lock);
}

void SharedScorer::Client::set_batch_size(std::size_t batch_size) {
  std::lock_guard<std::mutex> lock(owner_->mutex_);
  state_->batch_size = std::max<std::size_t>(batch_size, 1);
}

std::size_t SharedScorer::Client::waiting_faces() const {
  std::lock_guard<std::mutex> lock(owner_->mutex_);
  std::size_t count = 0;
  for (const auto& job : state_->jobs) count += job->faces.size() - job->taken;
  return count;
}

}  // namespace faceqan
