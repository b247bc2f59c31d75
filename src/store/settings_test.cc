// Settings: every name round-trips through Set/Get and the JSON file, bad
// values are refused with a message, and a file from an older version (a
// setting missing) reads with the default.
#include "store/settings.h"

#include <gtest/gtest.h>

namespace mailvault {
namespace {

TEST(Settings, EveryNameRoundTrips) {
  StoreSettings s;
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
  auto decoded = DecodeSettings(EncodeSettings(s));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  for (const auto& [key, value] : values) {
    EXPECT_EQ(GetSetting(*decoded, key), GetSetting(s, key)) << key;
  }
  EXPECT_FALSE(decoded->html_preview);
  EXPECT_TRUE(decoded->allow_infected_delivery);
  EXPECT_EQ(decoded->unavailable_action, UnavailableAction::kReject);
}

TEST(Settings, BadValuesAreRefused) {
  StoreSettings s;
  EXPECT_EQ(SetSetting(&s, "html_preview", "maybe", nullptr).code(), Code::kInvalidArgument);
  EXPECT_EQ(SetSetting(&s, "unavailable_action", "drop", nullptr).code(), Code::kInvalidArgument);
  EXPECT_EQ(SetSetting(&s, "max_size", "lots", nullptr).code(), Code::kInvalidArgument);
  Status unknown = SetSetting(&s, "colour", "blue", nullptr);
  EXPECT_EQ(unknown.code(), Code::kInvalidArgument);
  EXPECT_NE(unknown.message().find("html_preview"), std::string::npos) << unknown.ToString();
  EXPECT_TRUE(s.html_preview);  // unchanged by the refusals
}

TEST(Settings, MissingKeysKeepDefaults) {
  auto s = DecodeSettings(R"({"max_size": 1000000000})");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->max_size, 1000000000u);
  EXPECT_TRUE(s->html_preview);
  EXPECT_EQ(s->unavailable_action, UnavailableAction::kTempfail);
}

}  // namespace
}  // namespace mailvault
