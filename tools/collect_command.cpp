#include "collect_command.h"

#include <atomic>
#include <csignal>
#include <exception>
#include <iostream>
#include <thread>

#include "faceqan/collect/enrollment.h"
#include "faceqan/publish/listener.h"

namespace faceqan::cli {
namespace {

std::atomic<bool> stop_requested{false};

void request_stop(int) { stop_requested = true; }

void print_counts(const collect::Enrollment& enrollment) {
  const collect::Counts& counts = enrollment.counts();
  std::uint64_t rejected = 0;
  for (const auto& [reason, count] : counts.rejected) rejected += count;
  std::cout << "collect: " << enrollment.persons().size() << " persons from " << counts.end_events
            << " tracks (" << counts.joined << " joined, " << counts.crops_replaced
            << " crops replaced, " << counts.duplicates << " duplicates, " << rejected
            << " rejected)" << std::endl;
}

}  // namespace

void add_collect_command(CLI::App& app, CollectOptions& options) {
  CLI::App* command = app.add_subcommand(
      "collect",
      "Cross-camera enrollment: keep the best crop of each person seen by any camera. Reads the "
      "track end events of faceqanpublish (faceqan attach-embedding=true, faceqanpublish "
      "attach-crop=true) and writes OUT/<person-id>.png and OUT/index.json; stops on "
      "SIGINT/SIGTERM and continues where it left off when started again");
  command->add_option("--address", options.address, "The broker, host:port")
      ->capture_default_str();
  command->add_option("--topic", options.topic, "Topic prefix: subscribes to TOPIC/+/tracks")
      ->capture_default_str();
  command->add_option("--out", options.out, "Folder of the crops and index.json")->required();
  command->add_option("--same-person", options.same_person,
                      "Cosine similarity of embeddings that joins a track to an earlier person "
                      "(0: never join)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  command->add_option("--client-id", options.client_id,
                      "MQTT client id of the persistent session (one per collect folder)")
      ->capture_default_str();
  command->add_option("--tls-ca-file", options.tls_ca_file, "CA of the broker's certificate (TLS)");
  command->add_option("--username", options.username, "MQTT user name");
  command->add_option("--password-file", options.password_file,
                      "File whose first line is the password");
}

int run_collect(const CollectOptions& options) {
  collect::Enrollment enrollment(options.out, options.same_person);
  std::cout << "collect: " << enrollment.persons().size() << " persons in "
            << enrollment.index_path() << std::endl;
  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);

  publish::ListenSettings listen;
  listen.address = options.address;
  listen.topic = options.topic;
  listen.filter = options.topic + "/+/tracks";
  listen.client_id = options.client_id;  // fixed: a persistent session (clean_session=false)
  listen.tls_ca_file = options.tls_ca_file;
  listen.username = options.username;
  listen.password_file = options.password_file;
  listen.stop = &stop_requested;
  listen.on_subscribed = [&] {
    std::cout << "collect: subscribed to " << listen.filter << " at " << listen.address
              << " as " << listen.client_id << std::endl;
  };
  // An exception must not cross libmosquitto's C callbacks: kept and thrown after listen().
  std::exception_ptr failure;
  auto on_message = [&](const std::string& topic, const std::string& payload) {
    collect::Outcome outcome;
    try {
      outcome = enrollment.handle(payload);
    } catch (...) {
      failure = std::current_exception();
      return false;
    }
    using Kind = collect::Outcome::Kind;
    switch (outcome.kind) {
      case Kind::kRejected:
        std::cerr << "collect: rejected a message on " << topic << ": " << outcome.detail
                  << std::endl;
        break;
      case Kind::kNewPerson:
        std::cout << "collect: " << topic << ": new " << outcome.person << std::endl;
        break;
      case Kind::kJoined:
        std::cout << "collect: " << topic << ": joined " << outcome.person
                  << (outcome.crop_replaced ? " (better crop)" : "") << std::endl;
        break;
      case Kind::kDuplicate:
      case Kind::kIgnored:
        break;
    }
    return true;
  };
  while (!stop_requested) {
    try {
      publish::listen(listen, on_message);
      if (failure) std::rethrow_exception(failure);  // the folder cannot be written
    } catch (const publish::PublishError& error) {
      const std::string what = error.what();
      // A refusal (credentials, TLS) will not change by waiting; a broker that is down or lost
      // will come back, and the persistent session keeps what was published meanwhile.
      if (what.find("refused") != std::string::npos) throw;
      std::cerr << "collect: " << what << "; retrying in " << options.retry_interval << " s"
                << std::endl;
      for (double waited = 0; waited < options.retry_interval && !stop_requested; waited += 0.1) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }
  print_counts(enrollment);
  return 0;
}

}  // namespace faceqan::cli
