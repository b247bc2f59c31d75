// Settings: the policy of one data dir (policy.h), in memory and in
// DATA/settings.json, and the view of every run-time setting by name that
// `mailvault settings` and the console's settings API use (the policy plus
// the store's size cap, which the store keeps).
//
// Thread-safe: policy() is a cheap snapshot, read by every milter
// connection, delivery worker and console request; Update and Apply are
// serialized. One process changes the file at a time (the daemon, or a CLI
// command holding the store's writer lock).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "env/env.h"
#include "mailvault/status.h"
#include "mailvault/store.h"
#include "policy/policy.h"

namespace mailvault::policy {

struct SettingsOptions {
  std::string dir = "./var";  // the data dir
  Env* env = nullptr;         // default: the real file system
  bool read_only = false;     // Update and Apply refuse
  // Events an operator should see: "low_free_space" (OnFreeSpace),
  // "reserve_released" (a change written on a full disk). May be empty.
  std::function<void(std::string_view kind, std::string_view message)> on_event;
};

class Settings {
 public:
  // Reads DATA/settings.json; a missing file is the default policy.
  // Corruption if it is there but not a settings file.
  static Result<std::unique_ptr<Settings>> Open(const SettingsOptions& options);
  Settings(const Settings&) = delete;
  Settings& operator=(const Settings&) = delete;

  Policy policy() const;

  // Writes settings.json (atomically, through the space reserve on a full
  // disk: env/reserve.h), then the new policy is in force. On failure the
  // old one stays, in memory and on disk.
  Status Update(const Policy& policy);

  // Every setting by name: the policy and `store`'s size cap.
  SettingValues Values(Store& store) const;
  // Makes `next` the settings: the size cap to the store (which evicts at
  // once if it is lower), then the policy to the file. If the store refuses
  // the cap, nothing changed; if the file then fails, the cap is changed
  // and the error says the policy is not.
  Status Apply(Store& store, const SettingValues& next);

  // The free bytes of the data file system, as the store measured them
  // (StoreOptions::on_free_space): raises "low_free_space" when they fall
  // below notify_free_below, once, and again only after they were above.
  void OnFreeSpace(uint64_t free_bytes);

 private:
  explicit Settings(const SettingsOptions& options, Env& env) : options_(options), env_(env) {}

  const SettingsOptions options_;
  Env& env_;
  mutable std::mutex mu_;
  Policy policy_;          // guarded by mu_
  std::mutex write_mu_;    // serializes Update and Apply
  bool low_free_ = false;  // guarded by mu_
};

}  // namespace mailvault::policy
