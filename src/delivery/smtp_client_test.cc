#include "delivery/smtp_client.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "testutil/scripted_relay.h"

namespace mailvault::delivery {
namespace {

using std::chrono::milliseconds;

using testutil::Script;
using testutil::ScriptedRelay;

RelayOptions Options(int port) {
  RelayOptions o;
  o.port = port;
  o.helo = "client.test";
  o.connect_timeout_micros = 300'000;
  o.timeout_micros = 2'000'000;
  return o;
}

std::unique_ptr<SmtpClient> Client(const RelayOptions& o) {
  auto client = MakeCurlSmtpClient(o);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return client.ok() ? std::move(client).value() : nullptr;
}

SmtpEnvelope Envelope(std::vector<std::string> rcpt, std::string from = "alice@x.test") {
  return {std::move(from), std::move(rcpt)};
}

std::vector<int> Codes(const SmtpResult& r) {
  std::vector<int> out;
  for (const auto& x : r.rcpt) out.push_back(x.code);
  return out;
}

constexpr std::string_view kMessage =
    "From: alice@x.test\r\nSubject: dots\r\n\r\n.starts with a dot\r\n..two dots\r\n"
    ".\r\nthe line above was a lone dot\r\n\r\n";

TEST(SmtpClient, DeliversTheMessageByteExact) {
  ScriptedRelay relay({});
  auto client = Client(Options(relay.port()));
  SmtpResult r = client->Send(Envelope({"bob@y.test"}), kMessage);
  ASSERT_TRUE(r.transport.ok()) << r.transport.ToString();
  EXPECT_EQ(r.mail_from.code, 250);
  EXPECT_EQ(Codes(r), std::vector<int>{250});
  EXPECT_EQ(r.data.code, 250);
  EXPECT_EQ(r.data.text, "250 2.0.0 Ok: queued as 1A2B");
  EXPECT_EQ(r.ForRecipient(0).code, 250);
  EXPECT_EQ(relay.messages(), std::vector<std::string>{std::string(kMessage)});
  auto commands = relay.commands();
  ASSERT_GE(commands.size(), 4u);
  EXPECT_EQ(commands[0], "EHLO client.test");
  EXPECT_EQ(commands[1], "MAIL FROM:<alice@x.test>");  // no SIZE= when SIZE is not offered
  EXPECT_EQ(commands[2], "RCPT TO:<bob@y.test>");
  EXPECT_EQ(commands[3], "DATA");
}

TEST(SmtpClient, MessageStartingWithADot) {
  ScriptedRelay relay({});
  auto client = Client(Options(relay.port()));
  std::string message = ".first line\r\nsecond\r\n";
  SmtpResult r = client->Send(Envelope({"bob@y.test"}), message);
  ASSERT_TRUE(r.transport.ok()) << r.transport.ToString();
  EXPECT_EQ(relay.messages(), std::vector<std::string>{message});
}

TEST(SmtpClient, MessageWithoutFinalCrlfGetsOne) {
  ScriptedRelay relay({});
  auto client = Client(Options(relay.port()));
  SmtpResult r = client->Send(Envelope({"bob@y.test"}), "Subject: x\r\n\r\nno line end");
  ASSERT_TRUE(r.transport.ok()) << r.transport.ToString();
  EXPECT_EQ(relay.messages(), std::vector<std::string>{"Subject: x\r\n\r\nno line end\r\n"});
}

TEST(SmtpClient, PerRecipientReplies) {
  Script script;
  script.rcpt_replies = {{"nobody@y.test", "550 5.1.1 <nobody@y.test>: unknown"},
                         {"full@y.test", "452 4.2.2 Mailbox full"}};
  ScriptedRelay relay(script);
  auto client = Client(Options(relay.port()));
  SmtpResult r = client->Send(Envelope({"bob@y.test", "nobody@y.test", "full@y.test"}), kMessage);
  ASSERT_TRUE(r.transport.ok()) << r.transport.ToString();
  EXPECT_EQ(Codes(r), (std::vector<int>{250, 550, 452}));
  EXPECT_EQ(r.rcpt[1].text, "550 5.1.1 <nobody@y.test>: unknown");
  EXPECT_EQ(relay.Count("DATA"), 1);  // the accepted recipient still gets the message
  EXPECT_EQ(r.data.code, 250);
  EXPECT_EQ(r.ForRecipient(0).code, 250);
  EXPECT_TRUE(r.ForRecipient(1).permanent());
  EXPECT_TRUE(r.ForRecipient(2).temporary());
  EXPECT_EQ(relay.messages().size(), 1u);
}

TEST(SmtpClient, AllRecipientsRefused) {
  Script script;
  script.rcpt_replies = {{"a@y.test", "550 5.1.1 unknown"}, {"b@y.test", "451 4.3.0 try later"}};
  ScriptedRelay relay(script);
  auto client = Client(Options(relay.port()));
  SmtpResult r = client->Send(Envelope({"a@y.test", "b@y.test"}), kMessage);
  EXPECT_TRUE(r.transport.ok()) << r.transport.ToString();  // the relay answered
  EXPECT_EQ(Codes(r), (std::vector<int>{550, 451}));
  EXPECT_EQ(r.data.code, 0);
  EXPECT_EQ(relay.Count("DATA"), 0);
  EXPECT_TRUE(r.ForRecipient(0).permanent());
  EXPECT_TRUE(r.ForRecipient(1).temporary());
}

TEST(SmtpClient, MessageRefusedAfterData) {
  Script script;
  script.data_reply = "552 5.3.4 Message too big";
  ScriptedRelay relay(script);
  auto client = Client(Options(relay.port()));
  SmtpResult r = client->Send(Envelope({"a@y.test", "b@y.test"}), kMessage);
  EXPECT_TRUE(r.transport.ok()) << r.transport.ToString();
  EXPECT_EQ(Codes(r), (std::vector<int>{250, 250}));
  EXPECT_EQ(r.data.code, 552);
  EXPECT_EQ(r.ForRecipient(1).text, "552 5.3.4 Message too big");
}

TEST(SmtpClient, DataCommandRefused) {
  Script script;
  script.data_command_reply = "554 5.5.1 Error: no valid recipients";
  ScriptedRelay relay(script);
  auto client = Client(Options(relay.port()));
  SmtpResult r = client->Send(Envelope({"a@y.test"}), kMessage);
  EXPECT_TRUE(r.transport.ok()) << r.transport.ToString();
  EXPECT_EQ(Codes(r), std::vector<int>{250});
  EXPECT_EQ(r.data.code, 554);
  EXPECT_EQ(r.ForRecipient(0).text, "554 5.5.1 Error: no valid recipients");
  EXPECT_TRUE(relay.messages().empty());
}

TEST(SmtpClient, GreetingRefusedIsATransportFailure) {
  Script script;
  script.greeting = "554 5.7.1 relay.test: no service for you";
  ScriptedRelay relay(script);
  auto client = Client(Options(relay.port()));
  SmtpResult r = client->Send(Envelope({"a@y.test"}), kMessage);
  EXPECT_EQ(r.transport.code(), Code::kUnavailable);
  EXPECT_NE(r.transport.message().find("554 5.7.1 relay.test: no service for you"),
            std::string::npos)
      << r.transport.message();
  EXPECT_EQ(r.mail_from.code, 0);
}

TEST(SmtpClient, StartTlsRequiredButRefused) {
  for (bool offered : {false, true}) {
    Script script;
    script.starttls = offered;
    ScriptedRelay relay(script);
    RelayOptions o = Options(relay.port());
    o.tls = TlsMode::kStartTls;
    auto client = Client(o);
    SmtpResult r = client->Send(Envelope({"a@y.test"}), kMessage);
    EXPECT_EQ(r.transport.code(), Code::kUnavailable) << offered;
    EXPECT_EQ(relay.Count("MAIL"), 0);
    EXPECT_EQ(relay.Count("STARTTLS"), offered ? 1 : 0);
  }
}

TEST(SmtpClient, StartTlsTriedGoesOnInPlainText) {
  ScriptedRelay relay({});
  RelayOptions o = Options(relay.port());
  o.tls = TlsMode::kTry;
  auto client = Client(o);
  SmtpResult r = client->Send(Envelope({"a@y.test"}), kMessage);
  EXPECT_TRUE(r.transport.ok()) << r.transport.ToString();
  EXPECT_EQ(r.data.code, 250);
}

TEST(SmtpClient, SizeOverTheAdvertisedLimitIsRefusedAtMail) {
  Script script;
  script.size_limit = 100;
  ScriptedRelay relay(script);
  auto client = Client(Options(relay.port()));
  std::string message = "Subject: big\r\n\r\n" + std::string(200, 'x') + "\r\n";
  SmtpResult r = client->Send(Envelope({"a@y.test"}), message);
  EXPECT_TRUE(r.transport.ok()) << r.transport.ToString();
  EXPECT_EQ(r.mail_from.code, 552);
  EXPECT_EQ(r.ForRecipient(0).text, "552 5.3.4 Message size exceeds fixed limit");
  EXPECT_EQ(relay.Count("RCPT"), 0);
  auto commands = relay.commands();
  ASSERT_GE(commands.size(), 2u);
  EXPECT_EQ(commands[1], "MAIL FROM:<alice@x.test> SIZE=" + std::to_string(message.size()));
}

TEST(SmtpClient, NullSender) {
  ScriptedRelay relay({});
  auto client = Client(Options(relay.port()));
  SmtpResult r = client->Send(Envelope({"a@y.test"}, ""), kMessage);
  ASSERT_TRUE(r.transport.ok()) << r.transport.ToString();
  auto commands = relay.commands();
  ASSERT_GE(commands.size(), 2u);
  EXPECT_EQ(commands[1], "MAIL FROM:<>");
}

TEST(SmtpClient, ReusesTheConnection) {
  ScriptedRelay relay({});
  auto client = Client(Options(relay.port()));
  SmtpResult first = client->Send(Envelope({"a@y.test"}), "Subject: 1\r\n\r\none\r\n");
  SmtpResult second = client->Send(Envelope({"b@y.test"}, "carol@x.test"), "two\r\n");
  ASSERT_TRUE(first.transport.ok()) << first.transport.ToString();
  ASSERT_TRUE(second.transport.ok()) << second.transport.ToString();
  EXPECT_EQ(second.data.code, 250);
  EXPECT_EQ(relay.connections(), 1);
  EXPECT_EQ(relay.Count("EHLO"), 1);
  EXPECT_EQ(relay.messages(), (std::vector<std::string>{"Subject: 1\r\n\r\none\r\n", "two\r\n"}));
}

TEST(SmtpClient, ReusedConnectionClosedByTheRelayIsRetriedOnce) {
  Script script;
  script.drop_at_mail = 2;
  ScriptedRelay relay(script);  // the second MAIL, on the reused connection
  auto client = Client(Options(relay.port()));
  ASSERT_TRUE(client->Send(Envelope({"a@y.test"}), "one\r\n").transport.ok());
  SmtpResult r = client->Send(Envelope({"b@y.test"}), "two\r\n");
  ASSERT_TRUE(r.transport.ok()) << r.transport.ToString();
  EXPECT_EQ(r.data.code, 250);
  EXPECT_EQ(relay.connections(), 2);
  EXPECT_EQ(relay.messages(), (std::vector<std::string>{"one\r\n", "two\r\n"}));
}

TEST(SmtpClient, ConnectionLostAfterMail) {
  Script script;
  script.drop_at_mail = 1;
  ScriptedRelay relay(script);
  auto client = Client(Options(relay.port()));
  SmtpResult r = client->Send(Envelope({"a@y.test"}), kMessage);
  EXPECT_EQ(r.transport.code(), Code::kUnavailable) << r.transport.ToString();
  EXPECT_EQ(r.mail_from.code, 0);
  EXPECT_EQ(r.rcpt.size(), 1u);
  EXPECT_EQ(r.ForRecipient(0).code, 0);
  EXPECT_EQ(relay.connections(), 1);  // a new connection is not a reason to retry
}

TEST(SmtpClient, ConnectionRefused) {
  int port;
  {
    ScriptedRelay closed({});
    port = closed.port();
  }
  auto client = Client(Options(port));
  SmtpResult r = client->Send(Envelope({"a@y.test"}), kMessage);
  EXPECT_EQ(r.transport.code(), Code::kUnavailable);
  EXPECT_NE(r.transport.message().find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << r.transport.message();
  EXPECT_EQ(r.rcpt.size(), 1u);
}

TEST(SmtpClient, SilentRelayTimesOut) {
  Script script;
  script.silent = true;
  ScriptedRelay relay(script);
  RelayOptions o = Options(relay.port());
  o.timeout_micros = 300'000;
  auto client = Client(o);
  auto start = std::chrono::steady_clock::now();
  SmtpResult r = client->Send(Envelope({"a@y.test"}), kMessage);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.transport.code(), Code::kUnavailable) << r.transport.ToString();
  EXPECT_GE(took, milliseconds(250));
  EXPECT_LT(took, milliseconds(1500));
  EXPECT_EQ(r.mail_from.code, 0);
}

// Cancel from another thread ends a Send that waits on a relay, wherever it
// waits: for the greeting (connect phase) or for the reply to the message.
void ExpectCancelEnds(Script script, const std::function<bool(ScriptedRelay&)>& waiting) {
  ScriptedRelay relay(script);
  RelayOptions o = Options(relay.port());
  // Without Cancel, Send would wait this long.
  o.connect_timeout_micros = 120'000'000;
  o.timeout_micros = 120'000'000;
  auto client = Client(o);
  auto sent = std::async(std::launch::async,
                         [&] { return client->Send(Envelope({"a@y.test"}), kMessage); });
  for (int i = 0; i < 2000 && !waiting(relay); ++i) std::this_thread::sleep_for(milliseconds(10));
  ASSERT_TRUE(waiting(relay));
  client->Cancel();
  // Generous: Send returns at all before the relay's timeout.
  ASSERT_EQ(sent.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  SmtpResult r = sent.get();
  EXPECT_EQ(r.transport.code(), Code::kUnavailable) << r.transport.ToString();
  EXPECT_NE(r.transport.message().find("cancelled"), std::string::npos) << r.transport.message();
  EXPECT_EQ(r.data.code, 0);
  // Later Sends end at once, without connecting again.
  r = client->Send(Envelope({"a@y.test"}), kMessage);
  EXPECT_NE(r.transport.message().find("cancelled"), std::string::npos) << r.transport.message();
  EXPECT_EQ(relay.connections(), 1);
  // Nor does the QUIT on destruction wait for the hung relay.
  auto destroyed = std::async(std::launch::async, [&] { client.reset(); });
  ASSERT_EQ(destroyed.wait_for(std::chrono::seconds(60)), std::future_status::ready);
}

TEST(SmtpClient, CancelEndsAWaitForTheGreeting) {
  Script script;
  script.silent = true;
  ExpectCancelEnds(script, [](ScriptedRelay& relay) { return relay.connections() == 1; });
}

TEST(SmtpClient, CancelEndsAWaitForTheReplyToTheMessage) {
  Script script;
  script.data_reply = "";  // never answers the message
  ExpectCancelEnds(script, [](ScriptedRelay& relay) { return relay.messages().size() == 1; });
}

TEST(SmtpClient, AfterCancelTheQuitOfAnIdleConnectionDoesNotWait) {
  Script script;
  script.hang_at_quit = true;
  ScriptedRelay relay(script);
  RelayOptions o = Options(relay.port());
  o.connect_timeout_micros = 120'000'000;
  o.timeout_micros = 120'000'000;  // how long the QUIT's reply would be waited for
  auto client = Client(o);
  SmtpResult r = client->Send(Envelope({"a@y.test"}), kMessage);
  ASSERT_TRUE(r.transport.ok()) << r.transport.ToString();
  client->Cancel();  // idle, its connection open
  auto destroyed = std::async(std::launch::async, [&] { client.reset(); });
  ASSERT_EQ(destroyed.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  // The QUIT still went out.
  for (int i = 0; i < 500 && relay.Count("QUIT") == 0; ++i)
    std::this_thread::sleep_for(milliseconds(10));
  EXPECT_EQ(relay.Count("QUIT"), 1);
}

TEST(SmtpClient, Auth) {
  Script script;
  script.auth = true;
  ScriptedRelay relay(script);
  RelayOptions o = Options(relay.port());
  o.username = "user";
  o.password = "secret";
  auto client = Client(o);
  SmtpResult r = client->Send(Envelope({"a@y.test"}), kMessage);
  ASSERT_TRUE(r.transport.ok()) << r.transport.ToString();
  EXPECT_EQ(r.data.code, 250);
  EXPECT_EQ(relay.Count("AUTH PLAIN"), 1);
}

TEST(SmtpClient, AuthRefusedIsATransportFailure) {
  Script script;
  script.auth = true;
  ScriptedRelay relay(script);
  RelayOptions o = Options(relay.port());
  o.username = "user";
  o.password = "wrong";
  auto client = Client(o);
  SmtpResult r = client->Send(Envelope({"a@y.test"}), kMessage);
  EXPECT_EQ(r.transport.code(), Code::kUnavailable);
  EXPECT_NE(r.transport.message().find("535 5.7.8 Authentication failed"), std::string::npos)
      << r.transport.message();
  EXPECT_EQ(relay.Count("MAIL"), 0);
}

TEST(SmtpClient, HeloAddressLiteral) {
  ScriptedRelay relay({});
  RelayOptions o = Options(relay.port());
  o.helo = "[192.0.2.1]";
  auto client = Client(o);
  ASSERT_TRUE(client->Send(Envelope({"a@y.test"}), kMessage).transport.ok());
  auto commands = relay.commands();
  ASSERT_FALSE(commands.empty());
  EXPECT_EQ(commands[0], "EHLO [192.0.2.1]");
}

TEST(SmtpClient, BadEnvelopesAreRefusedBeforeConnecting) {
  ScriptedRelay relay({});
  auto client = Client(Options(relay.port()));
  for (const SmtpEnvelope& e : {Envelope({}), Envelope({"a@y.test\r\nRCPT TO:<evil@z.test>"}),
                                Envelope({"a@y.test"}, "x@y\nDATA"), Envelope({""}),
                                Envelope(std::vector<std::string>(901, "a@y.test"))}) {
    SmtpResult r = client->Send(e, kMessage);
    EXPECT_EQ(r.transport.code(), Code::kInvalidArgument) << r.transport.ToString();
    EXPECT_EQ(r.rcpt.size(), e.rcpt.size());
  }
  EXPECT_EQ(relay.connections(), 0);
}

TEST(MakeCurlSmtpClient, RefusesBadOptions) {
  std::vector<RelayOptions> bad(6);
  bad[0].host = "";
  bad[1].host = "relay/x";
  bad[2].port = 0;
  bad[3].helo = "two words";
  bad[4].timeout_micros = 0;
  bad[5].password = "a\r\nb";
  for (const auto& o : bad) {
    EXPECT_EQ(MakeCurlSmtpClient(o).status().code(), Code::kInvalidArgument);
  }
  RelayOptions v6;
  v6.host = "::1";
  EXPECT_TRUE(MakeCurlSmtpClient(v6).ok());
}

TEST(SmtpResult, ForRecipient) {
  SmtpResult r;
  r.mail_from = {250, "250 ok"};
  r.rcpt = {{250, "250 ok"}, {550, "550 no"}};
  r.data = {451, "451 later"};
  EXPECT_EQ(r.ForRecipient(0).code, 451);
  EXPECT_EQ(r.ForRecipient(1).code, 550);
  EXPECT_EQ(r.ForRecipient(2).code, 0);
  r.mail_from = {421, "421 bye"};
  EXPECT_EQ(r.ForRecipient(0).code, 421);
  r.mail_from = {};
  EXPECT_EQ(r.ForRecipient(1).code, 0);
}

}  // namespace
}  // namespace mailvault::delivery
