#include "sluice/core/uri.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sluice {
namespace {

TEST(ParseUri, FileUrlWithAbsolutePathKeepsThePath) {
  auto uri = ParseUri("file:///srv/lake/incoming", "/ignored/base");
  ASSERT_TRUE(uri) << uri.error().ToString();
  EXPECT_EQ(uri->scheme, "file");
  EXPECT_EQ(uri->authority, "");
  EXPECT_EQ(uri->path, "/srv/lake/incoming");
  EXPECT_TRUE(uri->query.empty());
}

TEST(ParseUri, FileUrlWithRelativePathResolvesAgainstTheBase) {
  auto uri = ParseUri("file://data/../lake/in", "/etc/sluice");
  ASSERT_TRUE(uri) << uri.error().ToString();
  EXPECT_EQ(uri->path, "/etc/sluice/lake/in");
}

TEST(ParseUri, RelativePathWithoutBaseStaysRelative) {
  auto uri = ParseUri("sqlite://queue.db");
  ASSERT_TRUE(uri);
  EXPECT_EQ(uri->path, "queue.db");
}

TEST(ParseUri, SqliteUrlIsLocalAndSchemeIsLowerCased) {
  auto uri = ParseUri("SQLite:///var/lib/sluice/queue.db");
  ASSERT_TRUE(uri) << uri.error().ToString();
  EXPECT_EQ(uri->scheme, "sqlite");
  EXPECT_TRUE(IsLocalScheme(uri->scheme));
  EXPECT_EQ(uri->path, "/var/lib/sluice/queue.db");
}

TEST(ParseUri, S3UrlSplitsBucketAndPrefix) {
  auto uri = ParseUri("s3://my-bucket/summary2/run", "/base");
  ASSERT_TRUE(uri) << uri.error().ToString();
  EXPECT_EQ(uri->scheme, "s3");
  EXPECT_FALSE(IsLocalScheme(uri->scheme));
  EXPECT_EQ(uri->authority, "my-bucket");
  EXPECT_EQ(uri->path, "/summary2/run");
}

TEST(ParseUri, S3UrlWithOnlyABucketHasAnEmptyPath) {
  auto uri = ParseUri("s3://my-bucket");
  ASSERT_TRUE(uri);
  EXPECT_EQ(uri->authority, "my-bucket");
  EXPECT_EQ(uri->path, "");
}

TEST(ParseUri, AmqpUrlKeepsCredentialsInAuthorityAndDecodesTheQuery) {
  auto uri = ParseUri("amqp://user:s3cret@127.0.0.1:5672/%2f?queue=sluice&prefetch=10&x=a%20b");
  ASSERT_TRUE(uri) << uri.error().ToString();
  EXPECT_EQ(uri->scheme, "amqp");
  EXPECT_EQ(uri->authority, "user:s3cret@127.0.0.1:5672");
  EXPECT_EQ(uri->path, "/%2f");
  ASSERT_EQ(uri->query.size(), 3u);
  EXPECT_EQ(uri->query.at("queue"), "sluice");
  EXPECT_EQ(uri->query.at("prefetch"), "10");
  EXPECT_EQ(uri->query.at("x"), "a b");
}

TEST(ParseUri, RedactedHidesThePassword) {
  auto uri = ParseUri("amqp://user:s3cret@127.0.0.1:5672/%2f?queue=sluice");
  ASSERT_TRUE(uri);
  const std::string redacted = uri->Redacted();
  EXPECT_EQ(redacted.find("s3cret"), std::string::npos) << redacted;
  EXPECT_EQ(redacted, "amqp://user:***@127.0.0.1:5672/%2f?queue=sluice");
}

TEST(ParseUri, RedactedHidesSecretQueryParameters) {
  auto uri = ParseUri("postgresql://db.example/lake?password=hunter2&sslmode=require");
  ASSERT_TRUE(uri);
  const std::string redacted = uri->Redacted();
  EXPECT_EQ(redacted.find("hunter2"), std::string::npos) << redacted;
  EXPECT_NE(redacted.find("sslmode=require"), std::string::npos) << redacted;
}

// Query parameter names are case-insensitive in practice: S3 presigned URLs carry
// "X-Amz-Security-Token", other services "Password" or "ClientSecret".
TEST(ParseUri, RedactedHidesSecretQueryParametersWhateverTheirCase) {
  auto uri = ParseUri("s3://bucket/key?X-Amz-Security-Token=tok123&Password=pw456&ClientSecret=cs789");
  ASSERT_TRUE(uri);
  const std::string redacted = uri->Redacted();
  EXPECT_EQ(redacted.find("tok123"), std::string::npos) << redacted;
  EXPECT_EQ(redacted.find("pw456"), std::string::npos) << redacted;
  EXPECT_EQ(redacted.find("cs789"), std::string::npos) << redacted;
}

TEST(ParseUri, RejectsTextWithoutSchemeSeparatorOrScheme) {
  for (const char* text : {"/srv/lake", "://nothing", "file:/x", ""}) {
    auto uri = ParseUri(text);
    ASSERT_FALSE(uri) << "accepted '" << text << "'";
    EXPECT_EQ(uri.error().code, ErrorCode::InvalidArgument);
  }
}

TEST(ParseUri, RejectsANulByte) {
  const std::string text("file:///a\0b", 11);
  auto uri = ParseUri(text);
  ASSERT_FALSE(uri);
  EXPECT_EQ(uri.error().code, ErrorCode::InvalidArgument);
}

TEST(ParseUri, RejectsABadPercentEscapeInTheQuery) {
  auto uri = ParseUri("amqp://host/?queue=%zz");
  ASSERT_FALSE(uri);
  EXPECT_EQ(uri.error().code, ErrorCode::InvalidArgument);
}

TEST(PercentDecode, DecodesEscapesAndKeepsPlus) {
  EXPECT_EQ(PercentDecode("%2f%2F+a").value(), "//+a");
  EXPECT_FALSE(PercentDecode("%2"));
  EXPECT_FALSE(PercentDecode("%g0"));
}

TEST(RedactUrl, ReplacesOnlyThePassword) {
  EXPECT_EQ(RedactUrl("amqp://user:pass@host:5672/vhost?queue=q"),
            "amqp://user:***@host:5672/vhost?queue=q");
  EXPECT_EQ(RedactUrl("https://alice:p%40ss@example.com/"), "https://alice:***@example.com/");
}

TEST(RedactUrl, LeavesUrlsWithoutPasswordUntouched) {
  EXPECT_EQ(RedactUrl("amqp://user@host:5672/"), "amqp://user@host:5672/");
  EXPECT_EQ(RedactUrl("amqp://host:5672/"), "amqp://host:5672/");
  EXPECT_EQ(RedactUrl("s3://bucket/a:b@c"), "s3://bucket/a:b@c");
  EXPECT_EQ(RedactUrl("not a url"), "not a url");
}

}  // namespace
}  // namespace sluice
