#include "tkmprom/topic.h"

#include <gtest/gtest.h>

namespace tkmprom {
namespace {

TEST(TopicTest, ClassifiesEveryKindOfTheProtocol) {
  EXPECT_EQ(ClassifyTopic("STOCKPRICEUPDATE", true), MessageKind::kStockRequest);
  EXPECT_EQ(ClassifyTopic("A1B2C3D4E5F6", true), MessageKind::kDeviceMessage);
  EXPECT_EQ(ClassifyTopic("DEVICESTATUS_RES", true), MessageKind::kHeartbeat);
  EXPECT_EQ(ClassifyTopic("DEVICESTATUS", true), MessageKind::kStatusPoll);
  EXPECT_EQ(ClassifyTopic("TICKRMETERBOOT", true), MessageKind::kBoot);
  EXPECT_EQ(ClassifyTopic("DEVICE_BOOTED", true), MessageKind::kBooted);
  EXPECT_EQ(ClassifyTopic("HTTPSTREAMSTOCKS", true), MessageKind::kHttpStream);
  EXPECT_EQ(ClassifyTopic("LOG/A1B2C3D4E5F6", true), MessageKind::kLog);
  EXPECT_EQ(ClassifyTopic("ALERT/A1B2C3D4E5F6", true), MessageKind::kAlert);
  EXPECT_EQ(ClassifyTopic("FIRMWAREUPDATE/A1B2C3D4E5F6", true), MessageKind::kFirmwareUpdate);
  EXPECT_EQ(ClassifyTopic("ON_TV_SYMBOL_SUBSCRIBE", true), MessageKind::kOther);
}

TEST(TopicTest, DeviceTopicsAreExactlyTwelveUppercaseHexDigits) {
  EXPECT_EQ(ClassifyTopic("a1b2c3d4e5f6", true), MessageKind::kOther);
  EXPECT_EQ(ClassifyTopic("A1B2C3D4E5F", true), MessageKind::kOther);
  EXPECT_EQ(ClassifyTopic("A1B2C3D4E5F67", true), MessageKind::kOther);
  EXPECT_EQ(ClassifyTopic("A1B2C3D4E5G6", true), MessageKind::kOther);
  EXPECT_EQ(ClassifyTopic("A1B2C3D4E5F6/x", true), MessageKind::kOther);
  EXPECT_EQ(ClassifyTopic("", true), MessageKind::kOther);
}

TEST(TopicTest, CustomPatternLeavesDeviceTopicsToTheCompanion) {
  EXPECT_EQ(ClassifyTopic("A1B2C3D4E5F6", false), MessageKind::kOther);
  EXPECT_EQ(ClassifyTopic("STOCKPRICEUPDATE", false), MessageKind::kStockRequest);
}

TEST(TopicTest, PrefixesNeedTheirSlashAndNamesMatchExactly) {
  EXPECT_EQ(ClassifyTopic("LOG", true), MessageKind::kOther);
  EXPECT_EQ(ClassifyTopic("LOGX/1", true), MessageKind::kOther);
  EXPECT_EQ(ClassifyTopic("STOCKPRICEUPDATE/x", true), MessageKind::kOther);
  EXPECT_EQ(ClassifyTopic("stockpriceupdate", true), MessageKind::kOther);
}

TEST(MessageKindTest, NamesAreTheContractLabels) {
  EXPECT_STREQ(MessageKindName(MessageKind::kStockRequest), "stock_request");
  EXPECT_STREQ(MessageKindName(MessageKind::kFirmwareUpdate), "firmware_update");
  EXPECT_STREQ(MessageKindName(MessageKind::kOther), "other");
}

}  // namespace
}  // namespace tkmprom
