// Daemon start-up and shutdown (see daemon.h).
#include "daemon/daemon.h"

#include <spdlog/spdlog.h>

#include "daemon/api.h"
#include "daemon/token.h"
#include "env/env.h"
#include "mailvault/store.h"
#include "store/reopening_store.h"

namespace mailvault::daemon {
namespace {

constexpr int64_t kReopenRetryMicros = 5'000'000;

}  // namespace

Status RunDaemon(const DaemonOptions& options, const std::function<void()>& wait_for_stop) {
  Env* env = PosixEnv();
  StoreOptions store_options;
  store_options.dir = options.data_dir;
  store_options.on_event = [](std::string_view kind, std::string_view message) {
    spdlog::warn("store event {}: {}", kind, message);
  };
  Status init = Store::Init(store_options);
  if (init.ok()) {
    spdlog::info("initialised a new store in {}", options.data_dir);
  } else if (init.code() != Code::kAlreadyExists) {
    return init.Annotate("initialise store in " + options.data_dir);
  }
  // A store that stopped after a failed fsync reopens (and recovers) by
  // itself, retrying every few seconds while the disk is still failing.
  auto store = store::ReopeningStore::Open(store_options, kReopenRetryMicros);
  if (!store.ok()) {
    if (store.status().code() == Code::kUnavailable) {
      return Status::Unavailable("the store in " + options.data_dir +
                                 " is in use by another process: " + store.status().message());
    }
    return store.status().Annotate("open store " + options.data_dir);
  }
  spdlog::info("store {} open for writing", options.data_dir);

  ApiOptions api;
  api.host = options.listen_host;
  api.port = options.listen_port;
  api.max_message_size = options.max_message_size;
  api.timeout_micros = options.request_timeout_micros;
  if (!options.token.empty()) {
    api.token = options.token;
    spdlog::info("API token from the config file");
  } else {
    std::string path = TokenFilePath(options);
    bool created = false;
    MV_ASSIGN_OR_RETURN(api.token, LoadOrCreateToken(*env, path, &created));
    spdlog::info("API token {} {}", created ? "created in" : "read from", path);
  }

  MV_ASSIGN_OR_RETURN(auto server, ApiServer::Start(**store, api));
  spdlog::info("API listening on http://{}:{}/api/v1/", api.host, server->port());
  const std::string port_file = JoinPath(options.data_dir, "mailvaultd.port");
  Status s = env->WriteFileAtomic(port_file, std::to_string(server->port()) + "\n");
  if (!s.ok()) spdlog::warn("cannot write {}: {}", port_file, s.ToString());

  wait_for_stop();

  spdlog::info("stopping");
  server->Stop();
  server.reset();
  env->Remove(port_file).IgnoreError();
  store->reset();
  spdlog::info("stopped; store closed");
  return Status::Ok();
}

}  // namespace mailvault::daemon
