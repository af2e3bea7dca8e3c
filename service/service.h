// `faceqan run`: every camera of a config file, each its own supervised pipeline, until SIGINT
// or SIGTERM (every camera gets EOS, queued messages are flushed, exit 0) or until every camera
// has ended by itself (file cameras without loop).
#pragma once

#include <string>

namespace faceqan::service {

// SIGINT and SIGTERM start the orderly stop; a second one exits at once (status 130).
void install_stop_signals();

// Loads and checks `config_path` (exit status 2 with a message naming the line and key if it is
// wrong, before any camera starts), then runs; with `check_only`, stops after the check and
// the start-up log of the resolved pipelines. Calls gst_init. Returns the exit status.
int run_service(const std::string& config_path, bool check_only);

}  // namespace faceqan::service
