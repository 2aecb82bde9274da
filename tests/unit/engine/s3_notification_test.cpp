#include "sluice/engine/sources/s3_notification.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sluice {
namespace {

using Json = nlohmann::json;

std::int64_t Millis(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

// An AWS S3 record as S3 User Guide "Event notification message structure" documents it (2.1).
Json AwsRecord(std::string event_name, std::string key) {
  return Json{
      {"eventVersion", "2.1"},
      {"eventSource", "aws:s3"},
      {"awsRegion", "us-west-2"},
      {"eventTime", "2026-11-21T09:15:30.250Z"},
      {"eventName", std::move(event_name)},
      {"userIdentity", {{"principalId", "AWS:AIDAEXAMPLE"}}},
      {"requestParameters", {{"sourceIPAddress", "203.0.113.9"}}},
      {"responseElements", {{"x-amz-request-id", "C3D13FE58DE4C810"}, {"x-amz-id-2", "FMyUVUR/w"}}},
      {"s3",
       {{"s3SchemaVersion", "1.0"},
        {"configurationId", "summaries"},
        {"bucket", {{"name", "lab-incoming"}, {"ownerIdentity", {{"principalId", "A3NL1KOZZKExample"}}},
                    {"arn", "arn:aws:s3:::lab-incoming"}}},
        {"object", {{"key", std::move(key)}, {"size", 1024}, {"eTag", "d41d8cd98f00b204e9800998ecf8427e"},
                    {"versionId", "096fKKXTRTtl3on89fVO.nfljtsv6qko"}, {"sequencer", "0055AED6DCD90281E5"}}}}}};
}

TEST(S3Notification, AwsRecordParsesEveryObjectField) {
  const Json body = {{"Records", Json::array({AwsRecord("ObjectCreated:Put", "summary2/ERR1.summary")})}};
  auto parsed = ParseS3Notification(body.dump());
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  ASSERT_EQ(parsed->records.size(), 1u);
  const S3EventRecord& r = parsed->records[0];
  EXPECT_EQ(r.bucket, "lab-incoming");
  EXPECT_EQ(r.event.kind, "ObjectCreated:Put");
  EXPECT_EQ(r.event.key, "summary2/ERR1.summary");
  EXPECT_EQ(r.event.size_bytes, 1024u);
  EXPECT_EQ(r.event.etag, "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(r.event.version, "096fKKXTRTtl3on89fVO.nfljtsv6qko");
  EXPECT_EQ(r.event.sequencer, "0055AED6DCD90281E5");
  EXPECT_EQ(Millis(r.event.time), 1795252530250);  // 2026-11-21T09:15:30.250Z
  EXPECT_TRUE(r.event.store.empty());
  EXPECT_FALSE(parsed->test_event);
  EXPECT_TRUE(parsed->subscribe_url.empty());
}

TEST(S3Notification, AwsKeyIsFormUrlDecodedWithPlusAsSpace) {
  const Json body = {{"Records", Json::array({AwsRecord("ObjectCreated:Put", "runs/red+flower%2B1%28copy%29.jpg")})}};
  auto parsed = ParseS3Notification(body.dump());
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->records[0].event.key, "runs/red flower+1(copy).jpg");
}

TEST(S3Notification, BadPercentEscapeInKeyNamesTheField) {
  const Json body = {{"Records", Json::array({AwsRecord("ObjectCreated:Put", "a%zz")})}};
  auto parsed = ParseS3Notification(body.dump());
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(parsed.error().message.find("Records[0].s3.object.key"), std::string::npos) << parsed.error().message;
}

TEST(S3Notification, DeleteRecordWithoutSizeOrEtagParses) {
  Json record = AwsRecord("ObjectRemoved:Delete", "a/b.txt");
  record["s3"]["object"].erase("size");
  record["s3"]["object"].erase("eTag");
  const Json body = {{"Records", Json::array({record})}};
  auto parsed = ParseS3Notification(body.dump());
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->records[0].event.kind, "ObjectRemoved:Delete");
  EXPECT_EQ(parsed->records[0].event.size_bytes, 0u);
  EXPECT_TRUE(parsed->records[0].event.etag.empty());
}

TEST(S3Notification, SeveralRecordsKeepTheirOrder) {
  const Json body = {{"Records", Json::array({AwsRecord("ObjectCreated:Put", "one"),
                                               AwsRecord("ObjectCreated:CompleteMultipartUpload", "two")})}};
  auto parsed = ParseS3Notification(body.dump());
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  ASSERT_EQ(parsed->records.size(), 2u);
  EXPECT_EQ(parsed->records[0].event.key, "one");
  EXPECT_EQ(parsed->records[1].event.key, "two");
  EXPECT_EQ(parsed->records[1].event.kind, "ObjectCreated:CompleteMultipartUpload");
}

TEST(S3Notification, EmptyRecordsArrayIsNoEvents) {
  auto parsed = ParseS3Notification(R"({"Records":[]})");
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_TRUE(parsed->records.empty());
  EXPECT_FALSE(parsed->test_event);
}

TEST(S3Notification, S3TestEventIsRecognisedAndHasNoRecords) {
  auto parsed = ParseS3Notification(
      R"({"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-21T09:15:30.000Z","Bucket":"lab-incoming","RequestId":"5582815E1AEA5ADF","HostId":"8cLeGAmw"})");
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_TRUE(parsed->test_event);
  EXPECT_TRUE(parsed->records.empty());
}

TEST(S3Notification, GarbageReportsTheByteOffset) {
  auto parsed = ParseS3Notification(R"({"Records": [ }, nonsense)");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(parsed.error().message.find("not JSON at byte 15"), std::string::npos) << parsed.error().message;
}

TEST(S3Notification, EmptyBodyIsInvalid) {
  auto parsed = ParseS3Notification("");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(parsed.error().message.find("not JSON"), std::string::npos);
}

TEST(S3Notification, NonObjectBodyIsInvalid) {
  auto parsed = ParseS3Notification("[1,2]");
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("expected a JSON object, got array"), std::string::npos)
      << parsed.error().message;
}

TEST(S3Notification, UnknownShapeSaysWhatWasExpected) {
  auto parsed = ParseS3Notification(R"({"hello":"world"})");
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("not an S3 event notification"), std::string::npos);
}

TEST(S3Notification, MissingFieldsAreNamedByTheirPath) {
  struct Case {
    std::string erase;  // dotted path under Records[1]
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"eventName", "Records[1].eventName is missing"},
      {"s3", "Records[1].s3 is missing"},
      {"s3.bucket", "Records[1].s3.bucket is missing"},
      {"s3.bucket.name", "Records[1].s3.bucket.name is missing"},
      {"s3.object", "Records[1].s3.object is missing"},
      {"s3.object.key", "Records[1].s3.object.key is missing"},
  };
  for (const auto& c : cases) {
    Json bad = AwsRecord("ObjectCreated:Put", "k");
    Json* parent = &bad;
    std::string path = c.erase;
    for (auto dot = path.find('.'); dot != std::string::npos; dot = path.find('.')) {
      parent = &(*parent)[path.substr(0, dot)];
      path = path.substr(dot + 1);
    }
    parent->erase(path);
    const Json body = {{"Records", Json::array({AwsRecord("ObjectCreated:Put", "ok"), bad})}};
    auto parsed = ParseS3Notification(body.dump());
    ASSERT_FALSE(parsed) << c.erase;
    EXPECT_EQ(parsed.error().code, ErrorCode::InvalidArgument);
    EXPECT_EQ(parsed.error().message, c.expected);
  }
}

TEST(S3Notification, MistypedFieldsAreNamedWithTheirType) {
  Json record = AwsRecord("ObjectCreated:Put", "k");
  record["s3"]["object"]["size"] = -3;
  auto parsed = ParseS3Notification(Json{{"Records", Json::array({record})}}.dump());
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("Records[0].s3.object.size must be a non-negative integer"),
            std::string::npos) << parsed.error().message;

  record = AwsRecord("ObjectCreated:Put", "k");
  record["s3"]["object"]["key"] = 42;
  parsed = ParseS3Notification(Json{{"Records", Json::array({record})}}.dump());
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message, "Records[0].s3.object.key must be a string, not number");

  parsed = ParseS3Notification(R"({"Records":{"a":1}})");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message, "Records must be an array, not object");

  record = AwsRecord("ObjectCreated:Put", "k");
  record["eventTime"] = "yesterday";
  parsed = ParseS3Notification(Json{{"Records", Json::array({record})}}.dump());
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("Records[0].eventTime"), std::string::npos) << parsed.error().message;
}

TEST(S3Notification, QuotedEtagAndStringSizeAreAccepted) {
  Json record = AwsRecord("ObjectCreated:Put", "k");
  record["s3"]["object"]["eTag"] = "\"abc-2\"";
  record["s3"]["object"]["size"] = "20971520";
  auto parsed = ParseS3Notification(Json{{"Records", Json::array({record})}}.dump());
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->records[0].event.etag, "abc-2");
  EXPECT_EQ(parsed->records[0].event.size_bytes, 20971520u);
}

// --- SNS envelope (SNS Developer Guide, "Parsing message formats") ---------------------------

Json SnsEnvelope(std::string type, std::string message) {
  return Json{{"Type", std::move(type)},
              {"MessageId", "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324"},
              {"TopicArn", "arn:aws:sns:us-west-2:123456789012:lab-events"},
              {"Subject", "Amazon S3 Notification"},
              {"Message", std::move(message)},
              {"Timestamp", "2026-11-21T09:15:31.000Z"},
              {"SignatureVersion", "1"},
              {"Signature", "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q="},
              {"SigningCertURL", "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-example.pem"},
              {"UnsubscribeURL", "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x"}};
}

TEST(S3Notification, SnsNotificationIsUnwrapped) {
  const Json inner = {{"Records", Json::array({AwsRecord("ObjectCreated:Copy", "dir/x+y.csv")})}};
  auto parsed = ParseS3Notification(SnsEnvelope("Notification", inner.dump()).dump());
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  ASSERT_EQ(parsed->records.size(), 1u);
  EXPECT_EQ(parsed->records[0].event.kind, "ObjectCreated:Copy");
  EXPECT_EQ(parsed->records[0].event.key, "dir/x y.csv");
  EXPECT_EQ(parsed->records[0].bucket, "lab-incoming");
}

TEST(S3Notification, SnsWrappedTestEventIsATestEvent) {
  auto parsed = ParseS3Notification(
      SnsEnvelope("Notification", R"({"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"})").dump());
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_TRUE(parsed->test_event);
}

TEST(S3Notification, SnsSubscriptionConfirmationGivesTheSubscribeUrl) {
  Json body = SnsEnvelope("SubscriptionConfirmation", "You have chosen to subscribe to the topic ...");
  body["Token"] = "2336412f37f";
  body["SubscribeURL"] = "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:lab-events&Token=2336412f37f";
  auto parsed = ParseS3Notification(body.dump());
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->subscribe_url, body["SubscribeURL"].get<std::string>());
  EXPECT_TRUE(parsed->records.empty());
}

TEST(S3Notification, SnsSubscriptionConfirmationWithoutUrlIsInvalid) {
  auto parsed = ParseS3Notification(SnsEnvelope("SubscriptionConfirmation", "x").dump());
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message, "SubscribeURL is missing");
}

TEST(S3Notification, SnsUnsubscribeConfirmationIsNothingToDo) {
  auto parsed = ParseS3Notification(SnsEnvelope("UnsubscribeConfirmation", "bye").dump());
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_TRUE(parsed->test_event);
}

TEST(S3Notification, SnsMessageThatIsNotJsonReportsTheOffsetInsideTheMessage) {
  auto parsed = ParseS3Notification(SnsEnvelope("Notification", R"({"Records":[}])").dump());
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("SNS Message: not JSON at byte 13"), std::string::npos)
      << parsed.error().message;
}

TEST(S3Notification, SnsMessageWithABadRecordNamesThePath) {
  Json record = AwsRecord("ObjectCreated:Put", "k");
  record["s3"].erase("bucket");
  auto parsed = ParseS3Notification(
      SnsEnvelope("Notification", Json{{"Records", Json::array({record})}}.dump()).dump());
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message, "SNS Message: Records[0].s3.bucket is missing");
}

TEST(S3Notification, UnknownSnsTypeIsInvalid) {
  auto parsed = ParseS3Notification(SnsEnvelope("Surprise", "{}").dump());
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("unknown SNS message Type 'Surprise'"), std::string::npos);
}

// --- Ceph RGW ----------------------------------------------------------------------------------

// The three POSTs captured from radosgw (research/infra.md, "Bucket notifications").
std::vector<std::string> CephSamples() {
  const std::filesystem::path file =
      std::filesystem::path(SLUICE_SHARED_DIR) / "research" / "infra" / "ceph-notification-samples.jsonl";
  std::vector<std::string> bodies;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) bodies.push_back(Json::parse(line).at("body").get<std::string>());
  }
  return bodies;
}

TEST(S3Notification, CapturedCephRgwNotificationsParse) {
  const auto bodies = CephSamples();
  if (bodies.empty()) GTEST_SKIP() << "research/infra/ceph-notification-samples.jsonl is not present (SLUICE_SHARED_DIR)";
  ASSERT_EQ(bodies.size(), 3u);
  std::vector<S3EventRecord> records;
  for (const auto& body : bodies) {
    auto parsed = ParseS3Notification(body);
    ASSERT_TRUE(parsed) << parsed.error().ToString();
    ASSERT_EQ(parsed->records.size(), 1u);
    records.push_back(parsed->records[0]);
  }
  EXPECT_EQ(records[0].bucket, "notif-bucket");
  EXPECT_EQ(records[0].event.kind, "ObjectCreated:Put");
  EXPECT_EQ(records[0].event.key, "data/part-0001.parquet");
  EXPECT_EQ(records[0].event.size_bytes, 6u);
  EXPECT_EQ(records[0].event.etag, "b1946ac92492d2347c6235b4d2611184");
  EXPECT_EQ(records[0].event.sequencer, "8A58016B9B44E430");
  EXPECT_TRUE(records[0].event.version.empty());
  EXPECT_EQ(Millis(records[0].event.time), 1795250314813);  // 2026-11-21T08:38:34.813288Z

  EXPECT_EQ(records[1].event.kind, "ObjectCreated:CompleteMultipartUpload");
  EXPECT_EQ(records[1].event.key, "data/big.bin");
  EXPECT_EQ(records[1].event.size_bytes, 209715200u);
  EXPECT_EQ(records[1].event.etag, "bf2bdcc91a59c556b76fe0400c16fcfd-25");

  EXPECT_EQ(records[2].event.kind, "ObjectRemoved:Delete");
  EXPECT_EQ(records[2].event.key, "data/part-0001.parquet");
  // Sequencers of one key increase with time: the delete orders after the put.
  EXPECT_GT(records[2].event.sequencer, records[0].event.sequencer);
}

TEST(S3Notification, CephKeysAreTakenAsIsAndS3PrefixedNamesAreNormalised) {
  // RGW does not URL-encode keys; some RGW versions send "s3:"-prefixed event names.
  Json record = AwsRecord("s3:ObjectCreated:Put", "raw dir/a+b%20c.txt");
  record["eventSource"] = "ceph:s3";
  record["awsRegion"] = "";
  record["eventVersion"] = "2.2";
  record["s3"]["object"]["metadata"] = Json::array({Json{{"key", "x-amz-meta-run"}, {"val", "7"}}});
  record["opaqueData"] = "";
  auto parsed = ParseS3Notification(Json{{"Records", Json::array({record})}}.dump());
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->records[0].event.kind, "ObjectCreated:Put");
  EXPECT_EQ(parsed->records[0].event.key, "raw dir/a+b%20c.txt");
}

// --- MinIO ---------------------------------------------------------------------------------

TEST(S3Notification, MinioBodyParsesWithDecodedKeyAndNormalisedName) {
  const std::string body = R"json({"EventName":"s3:ObjectCreated:Put","Key":"images/test12/DG0890EY2.jpg","Records":[{"eventVersion":"2.0","eventSource":"minio:s3","awsRegion":"","eventTime":"2026-11-21T09:15:30.000Z","eventName":"s3:ObjectCreated:Put","userIdentity":{"principalId":"minio"},"requestParameters":{"accessKey":"minio","region":"","sourceIPAddress":"127.0.0.1"},"responseElements":{"x-amz-request-id":"15612487A9DF732C","x-minio-origin-endpoint":"http://127.0.0.1:9000"},"s3":{"s3SchemaVersion":"1.0","configurationId":"Config","bucket":{"name":"images","ownerIdentity":{"principalId":"minio"},"arn":"arn:aws:s3:::images"},"object":{"key":"test12%2FDG0890EY2.jpg","size":629648,"eTag":"b7ce786cd89b182bfd5ae765557bbc37","contentType":"image/jpeg","userMetadata":{"content-type":"image/jpeg"},"versionId":"1","sequencer":"15612487A9DF732C"}},"source":{"host":"127.0.0.1","port":"","userAgent":"MinIO (linux; amd64)"}}]})json";
  auto parsed = ParseS3Notification(body);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  ASSERT_EQ(parsed->records.size(), 1u);
  EXPECT_EQ(parsed->records[0].bucket, "images");
  EXPECT_EQ(parsed->records[0].event.kind, "ObjectCreated:Put");
  EXPECT_EQ(parsed->records[0].event.key, "test12/DG0890EY2.jpg");
  EXPECT_EQ(parsed->records[0].event.size_bytes, 629648u);
  EXPECT_EQ(parsed->records[0].event.version, "1");
}

TEST(S3Notification, MinioEmptyEventTimeMeansNow) {
  Json record = AwsRecord("s3:ObjectCreated:Post", "k");
  record["eventSource"] = "minio:s3";
  record["eventTime"] = "";
  const auto before = std::chrono::system_clock::now();
  auto parsed = ParseS3Notification(Json{{"Records", Json::array({record})}}.dump());
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_GE(parsed->records[0].event.time, before);
  EXPECT_EQ(parsed->records[0].event.kind, "ObjectCreated:Post");
}

// --- EventBridge (S3 User Guide, "EventBridge message structure") --------------------------

Json EventBridge(std::string detail_type, std::string reason) {
  return Json{{"version", "0"},
              {"id", "17793124-05d4-b198-2fde-7ededc63b103"},
              {"detail-type", std::move(detail_type)},
              {"source", "aws.s3"},
              {"account", "123456789012"},
              {"time", "2026-11-21T09:15:30Z"},
              {"region", "ca-central-1"},
              {"resources", Json::array({"arn:aws:s3:::lab-incoming"})},
              {"detail",
               {{"version", "0"},
                {"bucket", {{"name", "lab-incoming"}}},
                {"object", {{"key", "runs/a b.fastq.gz"}, {"size", 5}, {"etag", "b1946ac92492d2347c6235b4d2611184"},
                            {"version-id", "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e"}, {"sequencer", "00617F08299329D189"}}},
                {"request-id", "N4N7GDK58NMKJ12R"},
                {"requester", "123456789012"},
                {"source-ip-address", "1.2.3.4"},
                {"reason", std::move(reason)}}}};
}

TEST(S3Notification, EventBridgeObjectCreatedMapsToAnObjectCreatedKind) {
  auto parsed = ParseS3Notification(EventBridge("Object Created", "PutObject").dump());
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  ASSERT_EQ(parsed->records.size(), 1u);
  const auto& r = parsed->records[0];
  EXPECT_EQ(r.bucket, "lab-incoming");
  EXPECT_EQ(r.event.kind, "ObjectCreated:Put");
  EXPECT_EQ(r.event.key, "runs/a b.fastq.gz");
  EXPECT_EQ(r.event.size_bytes, 5u);
  EXPECT_EQ(r.event.etag, "b1946ac92492d2347c6235b4d2611184");
  EXPECT_EQ(r.event.version, "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e");
  EXPECT_EQ(r.event.sequencer, "00617F08299329D189");
  EXPECT_EQ(Millis(r.event.time), 1795252530000);

  for (const auto& [reason, kind] : std::vector<std::pair<std::string, std::string>>{
           {"CompleteMultipartUpload", "ObjectCreated:CompleteMultipartUpload"},
           {"CopyObject", "ObjectCreated:Copy"},
           {"POST Object", "ObjectCreated:Post"}}) {
    parsed = ParseS3Notification(EventBridge("Object Created", reason).dump());
    ASSERT_TRUE(parsed) << parsed.error().ToString();
    EXPECT_EQ(parsed->records[0].event.kind, kind) << reason;
  }
}

TEST(S3Notification, EventBridgeObjectDeletedMapsToAnObjectRemovedKind) {
  Json body = EventBridge("Object Deleted", "DeleteObject");
  body["detail"]["deletion-type"] = "Permanently Deleted";
  auto parsed = ParseS3Notification(body.dump());
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->records[0].event.kind, "ObjectRemoved:Delete");

  body["detail"]["deletion-type"] = "Delete Marker Created";
  parsed = ParseS3Notification(body.dump());
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->records[0].event.kind, "ObjectRemoved:DeleteMarkerCreated");
}

TEST(S3Notification, EventBridgeOtherDetailTypesHaveNoRecords) {
  auto parsed = ParseS3Notification(EventBridge("Object Restore Completed", "").dump());
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_TRUE(parsed->records.empty());
}

TEST(S3Notification, EventBridgeFromAnotherServiceIsInvalid) {
  Json body = EventBridge("Object Created", "PutObject");
  body["source"] = "aws.ec2";
  auto parsed = ParseS3Notification(body.dump());
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("'aws.ec2'"), std::string::npos);
}

TEST(S3Notification, EventBridgeMissingObjectKeyIsNamed) {
  Json body = EventBridge("Object Created", "PutObject");
  body["detail"]["object"].erase("key");
  auto parsed = ParseS3Notification(body.dump());
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message, "detail.object.key is missing");
}

// --- bucket → store ------------------------------------------------------------------------

std::map<std::string, StoreConfig> Stores() {
  std::map<std::string, StoreConfig> stores;
  const auto add = [&](std::string name, std::string url) {
    StoreConfig config;
    config.name = name;
    config.url = std::move(url);
    stores[std::move(name)] = std::move(config);
  };
  add("incoming", "s3://lab-incoming");
  add("summaries", "s3://lab-incoming/summary2");
  add("lake", "s3://lab-lake/out/");
  add("local", "file:///srv/lake/incoming");
  return stores;
}

S3EventRecord Record(std::string bucket, std::string key) {
  S3EventRecord record;
  record.bucket = std::move(bucket);
  record.event.kind = "ObjectCreated:Put";
  record.event.key = std::move(key);
  return record;
}

TEST(S3EventStore, BucketMapsToTheS3StoreWithTheLongestMatchingPrefix) {
  auto event = ResolveS3EventStore(Record("lab-incoming", "summary2/ERR1.summary"), Stores(), "");
  ASSERT_TRUE(event) << event.error().ToString();
  EXPECT_EQ(event->store, "summaries");
  EXPECT_EQ(event->key, "ERR1.summary");

  event = ResolveS3EventStore(Record("lab-incoming", "other/x"), Stores(), "");
  ASSERT_TRUE(event) << event.error().ToString();
  EXPECT_EQ(event->store, "incoming");
  EXPECT_EQ(event->key, "other/x");

  event = ResolveS3EventStore(Record("lab-lake", "out/t.parquet"), Stores(), "");
  ASSERT_TRUE(event) << event.error().ToString();
  EXPECT_EQ(event->store, "lake");
  EXPECT_EQ(event->key, "t.parquet");
}

TEST(S3EventStore, UnknownBucketFallsBackToTheSourcesStore) {
  auto event = ResolveS3EventStore(Record("notif-bucket", "data/a.parquet"), Stores(), "local");
  ASSERT_TRUE(event) << event.error().ToString();
  EXPECT_EQ(event->store, "local");
  EXPECT_EQ(event->key, "data/a.parquet");

  // A key outside the only store of its bucket does not match that store either.
  event = ResolveS3EventStore(Record("lab-lake", "elsewhere/t"), Stores(), "local");
  ASSERT_TRUE(event) << event.error().ToString();
  EXPECT_EQ(event->store, "local");
}

TEST(S3EventStore, UnknownBucketWithoutFallbackIsNotFound) {
  auto event = ResolveS3EventStore(Record("nobody", "k"), Stores(), "");
  ASSERT_FALSE(event);
  EXPECT_EQ(event.error().code, ErrorCode::NotFound);
  EXPECT_NE(event.error().message.find("'nobody'"), std::string::npos);
}

}  // namespace
}  // namespace sluice
