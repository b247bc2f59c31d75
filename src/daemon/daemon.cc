// Daemon start-up and shutdown (see daemon.h).
#include "daemon/daemon.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>

#include "base/display_text.h"
#include "base/units.h"
#include "console/server.h"
#include "crypto/keyring.h"
#include "crypto/release.h"
#include "daemon/engine_check.h"
#include "daemon/spool_reset.h"
#include "daemon/token.h"
#include "daemon/trace_log.h"
#include "delivery/open_queue.h"
#include "delivery/sender.h"
#include "delivery/service.h"
#include "directory/accounts.h"
#include "directory/ldap_directory.h"
#include "directory/ldap_mailboxes.h"
#include "directory/ldap_options.h"
#include "directory/ldap_syncer.h"
#include "env/data_dir.h"
#include "env/env.h"
#include "intake/milter.h"
#include "intake/processor.h"
#include "journal/audit_log.h"
#include "mailvault/store.h"
#include "policy/settings.h"
#include "scan/address_lists.h"
#include "scan/clamd.h"
#include "scan/content_filter.h"
#include "scan/rspamd.h"
#include "store/reopening_store.h"

namespace mailvault::daemon {
namespace {

constexpr int64_t kReopenRetryMicros = 5'000'000;

void LogEvent(std::string_view kind, std::string_view message) {
  spdlog::warn("event {}: {}", kind, DisplayText(message));
}

// The engines the config enables, in the order their verdicts are listed.
Result<std::vector<std::unique_ptr<scan::Engine>>> MakeEngines(const scan::EngineOptions& o) {
  std::vector<std::unique_ptr<scan::Engine>> engines;
  // The content filter works on this CPU; it runs on the milter's thread
  // while clamd and rspamd, which wait on their peers, run beside it
  // (Processor::RunEngines runs the first engine inline).
  if (o.content.enabled) {
    MV_ASSIGN_OR_RETURN(auto content, scan::ContentFilterEngine::Make(o.content));
    engines.push_back(std::move(content));
  }
  MV_ASSIGN_OR_RETURN(auto lists, scan::AddressListEngine::Make(o.lists));
  engines.push_back(std::move(lists));
  if (o.clamd.enabled) {
    MV_ASSIGN_OR_RETURN(auto clamd, scan::ClamdEngine::Make(o.clamd));
    engines.push_back(std::move(clamd));
  }
  if (o.rspamd.enabled) {
    MV_ASSIGN_OR_RETURN(auto rspamd, scan::RspamdEngine::Make(o.rspamd));
    engines.push_back(std::move(rspamd));
  }
  return engines;
}

}  // namespace

Result<Prepared> Prepare(const DaemonOptions& options, Env& env) {
  Prepared p;
  // What SetUpTraceLog and main apply ([log]).
  MV_RETURN_IF_ERROR(config::CheckLogOptions(options));
  // What ConsoleServer::Start checks before it binds.
  p.api = config::ConsoleOptionsOf(options);
  MV_RETURN_IF_ERROR(console::CheckConsoleOptions(p.api));
  p.delivery = options.delivery;
  if (p.delivery.relay.helo.empty()) p.delivery.relay.helo = env.HostName();
  if (p.delivery.enabled) {
    // What Sender::Start checks, and the client each of its workers makes.
    MV_RETURN_IF_ERROR(delivery::CheckDeliveryOptions(p.delivery));
    MV_RETURN_IF_ERROR(delivery::MakeCurlSmtpClient(p.delivery.relay).status());
  }
  p.ldap = options.ldap;
  // What the LDAP cache's sync checks before it connects.
  MV_RETURN_IF_ERROR(directory::CheckLdapOptions(p.ldap));
  p.milter = options.milter;
  if (p.milter.spool_dir.empty()) p.milter.spool_dir = DataDir(options.data_dir).spool();
  if (p.milter.enabled) {
    MV_RETURN_IF_ERROR(
        intake::CheckMilterOptions(p.milter));  // the socket as Milter::Start reads it
    MV_ASSIGN_OR_RETURN(p.engines, MakeEngines(options.engines));
    MV_ASSIGN_OR_RETURN(p.rules, rules::RuleSet::Make(options.rules));
  }
  return p;
}

Status RunDaemon(const DaemonOptions& options, const std::function<void()>& wait_for_stop) {
  Env* env = PosixEnv();
  MV_ASSIGN_OR_RETURN(Prepared prepared, Prepare(options, *env));
  const DataDir data(options.data_dir);
  StoreOptions store_options;
  store_options.dir = options.data_dir;
  // Index damage no read has met yet is found in the background after
  // start (a full check on the start path would delay the milter).
  store_options.check_index = true;
  store_options.index_cache_bytes = options.index_cache;
  store_options.on_event = [](std::string_view kind, std::string_view message) {
    spdlog::warn("store event {}: {}", kind, DisplayText(message));
  };
  Status init = Store::Init(store_options);
  if (init.ok() || init.code() == Code::kAlreadyExists) {
    // The trace file from here on (trace_log.h): after the data dir is a
    // store, as the default file is inside it.
    MV_ASSIGN_OR_RETURN(auto logger, MakeDaemonLogger(options, /*to_stderr=*/true));
    spdlog::set_default_logger(std::move(logger));
    spdlog::flush_every(std::chrono::seconds(1));
    spdlog::info("trace log {} at {} (rotated at {}, {} files kept); crash dumps {}",
                 TraceFilePath(options), options.log_level, FormatSize(options.trace_max_size),
                 options.trace_files, options.core_dumps ? "on" : "off");
  }
  if (init.ok()) {
    spdlog::info("initialised a new store in {}", options.data_dir);
  } else if (init.code() != Code::kAlreadyExists) {
    return init.Annotate("initialise store in " + options.data_dir);
  }
  // The administrator's policy (settings.json), which intake, delivery and
  // the console follow; it watches the free space the store measures.
  policy::SettingsOptions policy_options;
  policy_options.dir = options.data_dir;
  policy_options.env = env;
  policy_options.on_event = [](std::string_view kind, std::string_view message) {
    spdlog::warn("policy event {}: {}", kind, DisplayText(message));
  };
  MV_ASSIGN_OR_RETURN(std::unique_ptr<policy::Settings> settings,
                      policy::Settings::Open(policy_options));
  store_options.on_free_space = [&settings](uint64_t free) { settings->OnFreeSpace(free); };
  // The key ring, opened once for every component: the store (which reads,
  // so it needs the secret keys), the queue, the accounts, the audit log and
  // the release signers. It outlives them all (declared first).
  MV_ASSIGN_OR_RETURN(std::unique_ptr<crypto::KeyRing> keys,
                      crypto::KeyRing::Open(*env, data.keys(), /*need_secrets=*/true));
  store_options.keys = keys.get();
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
  if (options.milter.enabled) {
    // Temporary files only until restart (spool_reset.h).
    Result<int> removed = EmptySpool(*env, prepared.milter.spool_dir);
    if (!removed.ok()) {
      spdlog::warn("cannot empty the spool {}: {}", prepared.milter.spool_dir,
                   removed.status().ToString());
    } else if (*removed > 0) {
      spdlog::info("spool {}: removed {} files left from before this start",
                   prepared.milter.spool_dir, *removed);
    }
  }

  console::ConsoleOptions api = prepared.api;
  if (!options.token.empty()) {
    api.token = options.token;
    spdlog::info("API token from the config file");
  } else {
    std::string path = TokenFilePath(options);
    bool created = false;
    MV_ASSIGN_OR_RETURN(api.token, LoadOrCreateToken(*env, path, &created));
    spdlog::info("API token {} {}", created ? "created in" : "read from", path);
  }

  // The release header's keys (loop-safe release).
  auto intake_signer = std::make_unique<crypto::ReleaseSigner>(*keys);
  auto delivery_signer = std::make_unique<crypto::ReleaseSigner>(*keys);

  // The delivery queue. Its sender starts last (below).
  MV_ASSIGN_OR_RETURN(auto queue, delivery::OpenQueue(*env, data, *keys, false));
  std::unique_ptr<delivery::Sender> sender;
  const delivery::DeliveryOptions& dopts = prepared.delivery;
  delivery::DeliveryService deliveries(*env, **store, *settings, *queue, dopts.lifetime_micros,
                                       [&sender] {
                                         if (sender) sender->Wake();
                                       });

  // The console: local accounts and the audit log, both beside the index.
  MV_ASSIGN_OR_RETURN(auto accounts, directory::Accounts::Open(*env, data, *keys, false));
  if (auto list = accounts->List(); list.ok() && list->empty()) {
    spdlog::warn(
        "no console accounts yet: create one with `mailvault user add NAME --role "
        "administrator --data {}`",
        options.data_dir);
  }
  journal::AuditOptions audit_options;
  audit_options.data_dir = options.data_dir;
  audit_options.max_records = options.audit_max_records;
  MV_ASSIGN_OR_RETURN(auto audit, journal::AuditLog::Open(*env, *keys, audit_options));
  // The engines, asked once before the console and the milter start: the
  // answers are logged plainly (mail passes unscanned by an engine that is
  // down) and shown in health and /metrics.
  std::vector<console::EngineReach> engines_reach;
  if (options.milter.enabled) {
    engines_reach = CheckEngines(prepared.engines);
    for (const console::EngineReach& r : engines_reach) {
      if (r.reachable) spdlog::info("{} answers at {}", r.engine, r.address);
    }
    for (const std::string& warning : EngineWarnings(engines_reach, prepared.engines)) {
      spdlog::warn("{}", warning);
    }
  }
  // The LDAP/AD cache: opened here, synced in the background (at start,
  // then every sync_interval); nothing below waits for the directory.
  std::unique_ptr<directory::LdapDirectory> ldap;
  std::unique_ptr<directory::LdapSyncer> ldap_syncer;
  if (prepared.ldap.enabled) {
    auto opened = directory::LdapDirectory::Open(prepared.ldap, *env, data, *keys, false);
    if (opened.ok()) {
      ldap = std::move(*opened);
    } else {
      // Mail does not wait for the directory: run without it, say why.
      spdlog::error("ldap: cannot open the cache, no directory sign-in: {}",
                    opened.status().ToString());
    }
  }
  if (ldap) {
    ldap_syncer = directory::LdapSyncer::Start(
        *ldap, prepared.ldap.sync_interval_micros, [&ldap](const auto& result) {
          if (!result.ok()) {
            auto st = ldap->State();
            spdlog::error("ldap sync failed, keeping the cache of {}: {}",
                          st.ok() && st->last_success != 0 ? FormatRfc3339(st->last_success)
                                                           : std::string("(none)"),
                          DisplayText(result.status().message()));
            return;
          }
          const directory::LdapSyncState& s = result->state;
          spdlog::info(
              "ldap sync: {} users, {} shared mailboxes, {} groups, {} delegations from {} in "
              "{:.2f}s ({} skipped)",
              s.users, s.mailboxes, s.groups, s.delegations, s.server, s.duration_micros / 1e6,
              s.skipped);
          for (const std::string& line : result->skipped) {
            spdlog::warn("ldap sync skipped: {}", DisplayText(line));
          }
        });
  }
  // Directory users sign in to the console and see their mailboxes:
  // local accounts first (a local account of the same name wins).
  std::unique_ptr<directory::LocalMailboxes> local_mailboxes;
  std::unique_ptr<directory::LdapMailboxes> ldap_mailboxes;
  std::unique_ptr<directory::ChainedMailboxes> mailboxes;
  console::ConsoleServices services;
  if (ldap && accounts) {
    local_mailboxes = std::make_unique<directory::LocalMailboxes>(*accounts);
    ldap_mailboxes = std::make_unique<directory::LdapMailboxes>(*ldap);
    mailboxes = std::make_unique<directory::ChainedMailboxes>(
        std::vector<directory::MailboxProvider*>{local_mailboxes.get(), ldap_mailboxes.get()});
    services.mailboxes = mailboxes.get();
    services.directory = ldap_mailboxes.get();
  }
  if (options.milter.enabled) {
    services.engines = [&engines_reach] { return engines_reach; };
  }
  services.env = env;
  services.store = store->get();
  services.settings = settings.get();
  services.deliveries = &deliveries;
  services.accounts = accounts.get();
  services.audit = audit.get();
  MV_ASSIGN_OR_RETURN(auto server, console::ConsoleServer::Start(services, api));
  spdlog::info("console and API listening on {}://{}:{}/ (API under /api/v1/)",
               server->tls() ? "https" : "http", api.host, server->port());
  const std::string port_file = data.daemon_port();
  Status s = env->WriteFileAtomic(port_file, std::to_string(server->port()) + "\n");
  if (!s.ok()) spdlog::warn("cannot write {}: {}", port_file, s.ToString());

  // The milter: engines, rules, and the release key (derived from the
  // store's index key, which a writer always holds).
  std::unique_ptr<intake::Processor> processor;
  std::unique_ptr<intake::Milter> milter;
  if (options.milter.enabled) {
    intake::ProcessorOptions popts;
    popts.release_max_age_micros = options.milter.release_max_age_micros;
    processor = std::make_unique<intake::Processor>(
        *env, **store, *settings, std::move(prepared.engines), std::move(prepared.rules),
        std::move(intake_signer),
        // Single use of releases: the queue keeps the consumed nonces.
        [&queue](std::string_view nonce, int64_t expires_at, int64_t now) {
          return queue->ConsumeRelease(nonce, expires_at, now);
        },
        popts, LogEvent);
    const intake::MilterOptions& mopts = prepared.milter;
    auto started = intake::Milter::Start(mopts, *env, *processor, [] {
      // The milter stopped serving by itself: stop the daemon.
      ::kill(::getpid(), SIGTERM);
    });
    if (!started.ok()) return started.status();
    milter = std::move(*started);
    spdlog::info("milter listening on {} ({} rules)", mopts.socket, options.rules.size());
  }

  // Delivery last: a release goes out through the site's Postfix and comes
  // back through this milter, so the milter must listen before the first
  // one is sent (else Postfix's milter_default_action defers it, and the
  // retry waits a minute). Stopping goes the other way round: the sender
  // first, while the milter still takes what it has in flight.
  if (dopts.enabled) {
    auto factory = [relay = dopts.relay] { return delivery::MakeCurlSmtpClient(relay); };
    MV_ASSIGN_OR_RETURN(sender, delivery::Sender::Start(*env, **store, *settings, *queue,
                                                        *delivery_signer, dopts, factory));
    spdlog::info("delivery: {} workers sending through {}:{}", dopts.workers, dopts.relay.host,
                 dopts.relay.port);
  } else {
    spdlog::warn("delivery is disabled ([delivery] enabled = false): requests wait in the queue");
  }

  wait_for_stop();

  spdlog::info("stopping");
  if (sender) sender->Stop();
  if (milter) milter->Stop();
  milter.reset();
  processor.reset();
  server->Stop();
  server.reset();
  if (ldap_syncer) ldap_syncer->Stop();
  ldap_syncer.reset();
  ldap.reset();
  sender.reset();
  audit.reset();
  accounts.reset();
  queue.reset();
  env->Remove(port_file).IgnoreError();
  store->reset();
  spdlog::info("stopped; store closed");
  return Status::Ok();
}

}  // namespace mailvault::daemon
