// The service's log: one line per event on stderr, each with a UTC time stamp, written whole
// even when several camera threads log at once (systemd's journal and kubectl logs read it).
#pragma once

#include <string>

namespace faceqan::service {

void log_line(const std::string& text);

}  // namespace faceqan::service
