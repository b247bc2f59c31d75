#include "daemon/engine_check.h"

#include <gtest/gtest.h>

namespace mailvault::daemon {
namespace {

class FakeEngine final : public scan::Engine {
 public:
  FakeEngine(std::string name, std::vector<std::string> covers, std::string address, Status ping)
      : name_(std::move(name)),
        covers_(std::move(covers)),
        address_(std::move(address)),
        ping_(std::move(ping)) {}
  std::string_view name() const override { return name_; }
  std::vector<std::string> covers() const override { return covers_; }
  std::vector<scan::Verdict> Scan(const scan::Message&) override { return {}; }
  std::string address() const override { return address_; }
  Status Ping() override {
    ++pings;
    return ping_;
  }
  int pings = 0;

 private:
  std::string name_;
  std::vector<std::string> covers_;
  std::string address_;
  Status ping_;
};

TEST(EngineCheck, SaysWhichEnginesAnswerAndHowToPointAtTheOthers) {
  std::vector<std::unique_ptr<scan::Engine>> engines;
  engines.push_back(std::make_unique<FakeEngine>(
      "content", std::vector<std::string>{"content-filtering"}, "", Status::Ok()));
  engines.push_back(std::make_unique<FakeEngine>("clamd", std::vector<std::string>{"anti-virus"},
                                                 "unix:/run/clamav/clamd.ctl",
                                                 Status::Unavailable("no such file or directory")));
  engines.push_back(std::make_unique<FakeEngine>(
      "rspamd", std::vector<std::string>{"anti-spam", "anti-phishing", "sender-auth"},
      "http://127.0.0.1:11333", Status::Ok()));
  std::vector<console::EngineReach> reach = CheckEngines(engines);
  ASSERT_EQ(reach.size(), 2u);  // the built-in one is not asked
  EXPECT_EQ(static_cast<FakeEngine&>(*engines[0]).pings, 0);
  EXPECT_EQ(reach[0].engine, "clamd");
  EXPECT_FALSE(reach[0].reachable);
  EXPECT_EQ(reach[0].error, "no such file or directory");
  EXPECT_EQ(reach[1].engine, "rspamd");
  EXPECT_TRUE(reach[1].reachable);

  std::vector<std::string> warnings = EngineWarnings(reach, engines);
  ASSERT_EQ(warnings.size(), 1u);
  const std::string& w = warnings[0];
  EXPECT_NE(w.find("clamd is not reachable at unix:/run/clamav/clamd.ctl (no such file or "
                   "directory): mail will pass WITHOUT anti-virus scanning"),
            std::string::npos)
      << w;
  EXPECT_NE(w.find("[engines.clamd] address"), std::string::npos) << w;
  EXPECT_NE(w.find("enabled = false"), std::string::npos) << w;

  static_cast<FakeEngine&>(*engines[2]) =
      FakeEngine("rspamd", {"anti-spam", "anti-phishing", "sender-auth"}, "http://127.0.0.1:11333",
                 Status::Unavailable("Failed to connect to 127.0.0.1 port 11333"));
  warnings = EngineWarnings(CheckEngines(engines), engines);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[1].find("WITHOUT anti-spam, anti-phishing, sender-auth scanning"),
            std::string::npos)
      << warnings[1];
  EXPECT_NE(warnings[1].find("[engines.rspamd] url"), std::string::npos) << warnings[1];
}

TEST(EngineCheck, NothingToSayWhenAllAnswer) {
  std::vector<std::unique_ptr<scan::Engine>> engines;
  engines.push_back(std::make_unique<FakeEngine>("clamd", std::vector<std::string>{"anti-virus"},
                                                 "tcp:127.0.0.1:3310", Status::Ok()));
  EXPECT_TRUE(EngineWarnings(CheckEngines(engines), engines).empty());
}

}  // namespace
}  // namespace mailvault::daemon
