// The names of the run-time settings: every name round-trips through
// Set/Get and the policy's JSON file, bad values are refused with a
// message, a file from an older version (a key missing) reads with the
// default, and a key the policy does not own survives an encode.
#include "policy/policy.h"

#include <gtest/gtest.h>

namespace mailvault::policy {
namespace {

TEST(Policy, EveryNameRoundTrips) {
  SettingValues s;
  const std::vector<std::pair<std::string, std::string>> values = {
      {"max_size", "2GB"},
      {"notify_free_below", "500MB"},
      {"allow_infected_delivery", "yes"},
      {"unavailable_action", "reject"},
      {"html_preview", "no"},
  };
  ASSERT_EQ(values.size(), SettingNames().size());
  for (const auto& [key, value] : values) {
    ASSERT_TRUE(SetSetting(&s, key, value, nullptr).ok()) << key;
  }
  EXPECT_EQ(s.max_size, 2'000'000'000u);
  SettingValues decoded{s.max_size, {}};
  auto policy = DecodePolicy(EncodePolicy(s.policy, ""));
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  decoded.policy = *policy;
  for (const auto& [key, value] : values) {
    EXPECT_EQ(GetSetting(decoded, key), GetSetting(s, key)) << key;
  }
  EXPECT_FALSE(decoded.policy.html_preview);
  EXPECT_TRUE(decoded.policy.allow_infected_delivery);
  EXPECT_EQ(decoded.policy.unavailable_action, UnavailableAction::kReject);
  EXPECT_EQ(decoded.policy.notify_free_below, 500'000'000u);
}

TEST(Policy, BadValuesAreRefused) {
  SettingValues s;
  EXPECT_EQ(SetSetting(&s, "html_preview", "maybe", nullptr).code(), Code::kInvalidArgument);
  EXPECT_EQ(SetSetting(&s, "unavailable_action", "drop", nullptr).code(), Code::kInvalidArgument);
  EXPECT_EQ(SetSetting(&s, "max_size", "lots", nullptr).code(), Code::kInvalidArgument);
  EXPECT_EQ(SetSetting(&s, "max_size", "0", nullptr).code(), Code::kInvalidArgument);
  Status unknown = SetSetting(&s, "colour", "blue", nullptr);
  EXPECT_EQ(unknown.code(), Code::kInvalidArgument);
  EXPECT_NE(unknown.message().find("html_preview"), std::string::npos) << unknown.ToString();
  EXPECT_TRUE(s.policy.html_preview);  // unchanged by the refusals
  std::string warning;
  ASSERT_TRUE(SetSetting(&s, "max_size", "50MB", &warning).ok());
  EXPECT_NE(warning.find("below 100 MB"), std::string::npos) << warning;
}

TEST(Policy, MissingKeysKeepDefaults) {
  auto p = DecodePolicy(R"({"max_size": 1000000000, "html_preview": false})");
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->html_preview);
  EXPECT_EQ(p->unavailable_action, UnavailableAction::kTempfail);
  EXPECT_EQ(p->notify_free_below, 1'000'000'000u);
  EXPECT_EQ(DecodePolicy("not json").status().code(), Code::kCorruption);
}

TEST(Policy, EncodeKeepsKeysItDoesNotOwn) {
  Policy p;
  p.unavailable_action = UnavailableAction::kProcess;
  std::string text = EncodePolicy(p, R"({"max_size": 123456789, "html_preview": false})");
  EXPECT_NE(text.find("\"max_size\": 123456789"), std::string::npos) << text;
  EXPECT_NE(text.find("\"html_preview\": true"), std::string::npos) << text;
  EXPECT_NE(text.find("\"unavailable_action\": \"process\""), std::string::npos) << text;
}

}  // namespace
}  // namespace mailvault::policy
