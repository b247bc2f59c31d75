#include "delivery/service.h"

#include <gtest/gtest.h>

#include "delivery/test_fixture.h"

namespace mailvault::delivery {
namespace {

class ServiceTest : public StoreFixture {
 protected:
  Result<EnqueueResult> Enqueue(DeliveryRequest r) {
    DeliveryService service(*PosixEnv(), *store_, *policy_, *queue_, 86'400'000'000,
                            [this] { ++wakes_; });
    return service.Enqueue(r);
  }
  int wakes_ = 0;
};

TEST_F(ServiceTest, QueuesOriginalAndAdditionalRecipients) {
  CopyId id = Put({"bob@example.com", "carol@example.com"});
  DeliveryRequest r;
  r.ids = {id};
  r.original = true;
  r.to = {"Dave <dave@example.net>", "BOB@example.com"};  // bob twice: once
  r.format = DeliveryFormat::kAsAttachment;
  r.requested_by = "test";
  auto q = Enqueue(r);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_EQ(q->entries.size(), 3u);
  EXPECT_EQ(q->entries[0].rcpt, "bob@example.com");
  EXPECT_TRUE(q->entries[0].original);
  EXPECT_EQ(q->entries[2].rcpt, "dave@example.net");
  EXPECT_FALSE(q->entries[2].original);
  for (const DeliveryEntry& e : q->entries) {
    EXPECT_EQ(e.request, q->request);
    EXPECT_EQ(e.state, DeliveryState::kQueued);
    EXPECT_EQ(e.mail_from, "alice@example.org");
    EXPECT_EQ(e.format, DeliveryFormat::kAsAttachment);
    EXPECT_EQ(e.requested_by, "test");
    EXPECT_GT(e.expires_at, e.created_at);
  }
  EXPECT_EQ(wakes_, 1);
}

TEST_F(ServiceTest, RefusesBadRequestsWithoutQueueingAnything) {
  CopyId id = Put({"bob@example.com"});
  DeliveryRequest r;
  r.ids = {id};
  auto q = Enqueue(r);
  EXPECT_EQ(q.status().code(), Code::kInvalidArgument);
  EXPECT_NE(q.status().message().find("no target"), std::string::npos);

  r.to = {"not an address"};
  q = Enqueue(r);
  EXPECT_EQ(q.status().code(), Code::kInvalidArgument);

  r.to = {"x@example.com"};
  r.ids = {id, 999};
  q = Enqueue(r);
  EXPECT_EQ(q.status().code(), Code::kNotFound);
  EXPECT_NE(q.status().message().find("no copy with id 999"), std::string::npos);

  r.ids.clear();
  EXPECT_EQ(Enqueue(r).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(queue_->Counts()->queued, 0u);
  EXPECT_EQ(wakes_, 0);
}

TEST_F(ServiceTest, InfectedCopiesNeedTheSetting) {
  CopyId bad = Put({"bob@example.com"}, {{"anti-virus", "infected"}});
  CopyId maybe = Put({"bob@example.com"}, {{"anti-virus", "probably-infected"}});
  CopyId spam = Put({"bob@example.com"}, {{"anti-spam", "spam"}});
  DeliveryRequest r;
  r.original = true;
  for (CopyId id : {bad, maybe}) {
    r.ids = {id};
    auto q = Enqueue(r);
    EXPECT_EQ(q.status().code(), Code::kPermissionDenied);
    EXPECT_NE(q.status().message().find("allow_infected_delivery"), std::string::npos);
  }
  // One refused copy refuses the request: nothing of it is queued.
  r.ids = {spam, bad};
  EXPECT_EQ(Enqueue(r).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(queue_->Counts()->queued, 0u);

  policy::Policy p = policy_->policy();
  p.allow_infected_delivery = true;
  ASSERT_TRUE(policy_->Update(p).ok());
  EXPECT_TRUE(Enqueue(r).ok());
}

TEST_F(ServiceTest, SecondDeliveryNeedsAgain) {
  CopyId id = Put({"bob@example.com"});
  DeliveryRequest r;
  r.ids = {id};
  r.original = true;
  auto first = Enqueue(r);
  ASSERT_TRUE(first.ok());
  // Still queued: a repeat is refused too.
  auto again = Enqueue(r);
  EXPECT_EQ(again.status().code(), Code::kAlreadyExists);
  EXPECT_NE(again.status().message().find("already in the queue for bob@example.com"),
            std::string::npos);
  // Delivered: refused, naming when.
  ASSERT_TRUE(queue_->ClaimDue(PosixEnv()->NowMicros(), 10).ok());
  ASSERT_TRUE(queue_
                  ->Record({{first->entries[0].id, DeliveryState::kDelivered, "250 ok", 0}},
                           PosixEnv()->NowMicros())
                  .ok());
  again = Enqueue(r);
  EXPECT_EQ(again.status().code(), Code::kAlreadyExists);
  EXPECT_NE(again.status().message().find("already delivered to bob@example.com"),
            std::string::npos);
  // Another recipient is fine; --again allows the repeat.
  r.original = false;
  r.to = {"carol@example.com"};
  EXPECT_TRUE(Enqueue(r).ok());
  r.original = true;
  r.to.clear();
  r.again = true;
  auto repeat = Enqueue(r);
  ASSERT_TRUE(repeat.ok()) << repeat.status().ToString();
  EXPECT_EQ(repeat->entries.size(), 1u);
}

TEST_F(ServiceTest, FailedDeliveryMayBeRequestedAgain) {
  CopyId id = Put({"bob@example.com"});
  DeliveryRequest r;
  r.ids = {id};
  r.original = true;
  auto first = Enqueue(r);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(queue_->ClaimDue(PosixEnv()->NowMicros(), 10).ok());
  ASSERT_TRUE(queue_
                  ->Record({{first->entries[0].id, DeliveryState::kFailed, "550 no", 0}},
                           PosixEnv()->NowMicros())
                  .ok());
  EXPECT_TRUE(Enqueue(r).ok());
}

TEST_F(ServiceTest, CopyWithoutEnvelopeNeedsAnAddress) {
  CopyId id = Put({});
  DeliveryRequest r;
  r.ids = {id};
  r.original = true;
  auto q = Enqueue(r);
  EXPECT_EQ(q.status().code(), Code::kInvalidArgument);
  EXPECT_NE(q.status().message().find("no original recipients"), std::string::npos);
}

}  // namespace
}  // namespace mailvault::delivery
