// `faceqan listen`: prints what faceqanpublish sends to a broker, one JSON object per line
// ({"topic": ..., "message": {...}}, the layout of faceqanpublish method=file), as it arrives.
#pragma once

#include <CLI/CLI.hpp>

#include "faceqan/publish/listener.h"

namespace faceqan::cli {

void add_listen_command(CLI::App& app, publish::ListenSettings& options);
int run_listen(const publish::ListenSettings& options);

}  // namespace faceqan::cli
