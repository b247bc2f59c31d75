// The daemon's life: initialise the store if the data dir is not one yet,
// open it for writing (taking the lock), load or create the API token, serve
// the API, write DATA/mailvaultd.port, and on a stop request close the server
// and then the store. Later issues add the milter, delivery and console here.
#pragma once

#include <functional>

#include "config/config.h"
#include "mailvault/status.h"

namespace mailvault::daemon {

using config::DaemonOptions;
using config::TokenFilePath;

// Runs until `wait_for_stop` returns (main passes a function that waits for
// SIGTERM/SIGINT). Non-OK if start-up fails; the message is for the log.
Status RunDaemon(const DaemonOptions& options, const std::function<void()>& wait_for_stop);

}  // namespace mailvault::daemon
