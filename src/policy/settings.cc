// The policy in memory and in DATA/settings.json.
#include "policy/settings.h"

#include "base/units.h"
#include "env/data_dir.h"
#include "env/reserve.h"

namespace mailvault::policy {

Result<std::unique_ptr<Settings>> Settings::Open(const SettingsOptions& options) {
  Env& env = options.env != nullptr ? *options.env : *PosixEnv();
  std::unique_ptr<Settings> s(new Settings(options, env));
  auto text = env.ReadFile(DataDir(options.dir).settings());
  if (text.ok()) {
    MV_ASSIGN_OR_RETURN(s->policy_, DecodePolicy(*text));
  } else if (!text.status().IsNotFound()) {
    return text.status().Annotate("read the settings");
  }
  return s;
}

Policy Settings::policy() const {
  std::lock_guard<std::mutex> l(mu_);
  return policy_;
}

Status Settings::Update(const Policy& policy) {
  if (options_.read_only) return Status::Unavailable("the settings are open read-only");
  std::lock_guard<std::mutex> w(write_mu_);
  const std::string path = DataDir(options_.dir).settings();
  auto existing = env_.ReadFile(path);
  if (!existing.ok() && !existing.status().IsNotFound()) return existing.status();
  const std::string text = EncodePolicy(policy, existing.ok() ? *existing : "");
  MV_RETURN_IF_ERROR(WriteFileUsingReserve(env_, options_.dir, path, text, options_.on_event));
  std::lock_guard<std::mutex> l(mu_);
  policy_ = policy;
  return Status::Ok();
}

SettingValues Settings::Values(Store& store) const { return {store.max_size(), policy()}; }

Status Settings::Apply(Store& store, const SettingValues& next) {
  if (options_.read_only) return Status::Unavailable("the settings are open read-only");
  if (next.max_size != store.max_size()) {
    MV_RETURN_IF_ERROR(store.SetMaxSize(next.max_size).Annotate("set max_size"));
  }
  Policy current = policy();
  if (current.notify_free_below == next.policy.notify_free_below &&
      current.allow_infected_delivery == next.policy.allow_infected_delivery &&
      current.unavailable_action == next.policy.unavailable_action &&
      current.html_preview == next.policy.html_preview) {
    return Status::Ok();
  }
  return Update(next.policy);
}

void Settings::OnFreeSpace(uint64_t free_bytes) {
  uint64_t threshold;
  {
    std::lock_guard<std::mutex> l(mu_);
    threshold = policy_.notify_free_below;
    if (free_bytes >= threshold) {
      low_free_ = false;
      return;
    }
    if (low_free_) return;
    low_free_ = true;
  }
  if (options_.on_event) {
    options_.on_event("low_free_space", "free space on the Backup's file system is " +
                                            FormatSize(free_bytes) + ", below " +
                                            FormatSize(threshold));
  }
}

}  // namespace mailvault::policy
