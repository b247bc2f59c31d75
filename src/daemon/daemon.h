// The daemon's life: turn the config into component options and check them
// (Prepare), initialise the store if the data dir is not one yet, open the
// key ring and the store for writing (taking the lock), load or create the
// API token, open the delivery queue, serve the console and API, write
// DATA/mailvaultd.port, start the milter, and only then start delivery: a
// release goes out through Postfix and back through this milter, which
// must already listen (delivery_test.sh checks a release queued while the
// daemon was down goes at the first attempt). On a stop request: delivery
// first, then the milter, the console, and last the store.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "config/config.h"
#include "console/server.h"
#include "delivery/options.h"
#include "directory/ldap_options.h"
#include "env/env.h"
#include "intake/options.h"
#include "mailvault/status.h"
#include "rules/rules.h"
#include "scan/engine.h"

namespace mailvault::daemon {

using config::DaemonOptions;
using config::TokenFilePath;

// The first step of start-up, before the data dir is touched: the config
// turned into each component's options and the objects that cost nothing
// to build (engines and rules; nothing connects or listens), with every
// check the components make of their options. A config this refuses never
// initialises a store. ParseConfig (`mailvault config check`) refuses the
// same configs with the same words: daemon_test's table holds both to it.
struct Prepared {
  console::ConsoleOptions api;         // token empty: loaded later
  delivery::DeliveryOptions delivery;  // helo filled in
  intake::MilterOptions milter;        // spool_dir filled in
  directory::LdapOptions ldap;         // checked (directory::CheckLdapOptions)
  // For the milter, when it is enabled.
  std::vector<std::unique_ptr<scan::Engine>> engines;
  rules::RuleSet rules;
};
Result<Prepared> Prepare(const DaemonOptions& options, Env& env);

// Runs until `wait_for_stop` returns (main passes a function that waits for
// SIGTERM/SIGINT). Non-OK if start-up fails; the message is for the log.
Status RunDaemon(const DaemonOptions& options, const std::function<void()>& wait_for_stop);

}  // namespace mailvault::daemon
