// `faceqan collect`: cross-camera enrollment. Subscribes to the track events faceqanpublish sends
// for every camera (<topic>/+/tracks, a persistent session at QoS 1) and keeps each person's one
// best crop in a folder with an index (collect/, docs/COLLECT.md).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace faceqan::cli {

struct CollectOptions {
  std::string address = "127.0.0.1:1883";
  std::string topic = "faceqan";
  std::string out;
  double same_person = 0.6;
  std::string client_id = "faceqan-collect";
  std::string tls_ca_file, username, password_file;
  double retry_interval = 2;  // seconds between connection attempts after a broker is lost
};

void add_collect_command(CLI::App& app, CollectOptions& options);
int run_collect(const CollectOptions& options);

}  // namespace faceqan::cli
