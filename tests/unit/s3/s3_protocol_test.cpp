// The pure parts of the S3 protocol: limits and part sizes, ETags, XML documents, dates, error
// mapping and retry classification.

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "sluice/core/hash.hpp"
#include "sluice/store/s3/s3_protocol.hpp"

namespace sluice::s3 {
namespace {

using std::chrono::milliseconds;

std::array<std::uint8_t, 16> RawMd5(std::string_view bytes) {
  Md5 md5;
  md5.Update(bytes);
  return md5.Finish();
}

// --- Part sizes ------------------------------------------------------------------------------

/// Bytes a streamed upload can hold in 10,000 parts starting at `base`.
std::uint64_t StreamCapacity(std::uint64_t base) {
  std::uint64_t total = 0;
  for (int part = 1; part <= kMaxParts; ++part) total += StreamPartSizeBytes(base, part);
  return total;
}

TEST(PartSize, StreamedUploadOf5TiBFitsIn10000PartsEvenFromTheSmallestPartSize) {
  EXPECT_GE(StreamCapacity(kMinPartSizeBytes), kMaxObjectSizeBytes);
  EXPECT_GE(StreamCapacity(8 * kMiB), kMaxObjectSizeBytes);
  EXPECT_GE(StreamCapacity(1), kMaxObjectSizeBytes);  // clamped up to 5 MiB
}

TEST(PartSize, StreamedPartsDoubleEvery500PartsUpTo5GiB) {
  EXPECT_EQ(StreamPartSizeBytes(8 * kMiB, 1), 8 * kMiB);
  EXPECT_EQ(StreamPartSizeBytes(8 * kMiB, 500), 8 * kMiB);
  EXPECT_EQ(StreamPartSizeBytes(8 * kMiB, 501), 16 * kMiB);
  EXPECT_EQ(StreamPartSizeBytes(8 * kMiB, 1001), 32 * kMiB);
  EXPECT_EQ(StreamPartSizeBytes(8 * kMiB, 10000), kMaxPartSizeBytes);
  EXPECT_EQ(StreamPartSizeBytes(1, 1), kMinPartSizeBytes);
  EXPECT_EQ(StreamPartSizeBytes(100 * kGiB, 1), kMaxPartSizeBytes);
}

TEST(PartSize, StreamedObjectsOfAFewGiBKeepTheConfiguredPartSize) {
  // 500 parts of 8 MiB = 4000 MiB go up without growing the parts (or the memory).
  EXPECT_EQ(StreamPartSizeBytes(8 * kMiB, 500), 8 * kMiB);
}

TEST(PartSize, KnownSizeGrowsSoAnyObjectFitsIn10000Parts) {
  EXPECT_EQ(FixedPartSizeBytes(8 * kMiB, 1 * kGiB), 8 * kMiB);
  // 5 TiB / 10,000 = 524.288 MiB, rounded up to whole MiB.
  const std::uint64_t part = FixedPartSizeBytes(8 * kMiB, kMaxObjectSizeBytes);
  EXPECT_EQ(part, 525 * kMiB);
  EXPECT_LE((kMaxObjectSizeBytes + part - 1) / part, static_cast<std::uint64_t>(kMaxParts));
  // 100 GiB / 10,000 = 10.24 MiB -> 11 MiB.
  EXPECT_EQ(FixedPartSizeBytes(8 * kMiB, 100 * kGiB), 11 * kMiB);
  EXPECT_EQ(FixedPartSizeBytes(1, 1), kMinPartSizeBytes);
  EXPECT_EQ(FixedPartSizeBytes(10 * kGiB, 1), kMaxPartSizeBytes);
}

TEST(PartSize, AwsLimitsAreTheDocumentedOnes) {
  EXPECT_EQ(kMinPartSizeBytes, 5ULL * 1024 * 1024);
  EXPECT_EQ(kMaxPartSizeBytes, 5ULL * 1024 * 1024 * 1024);
  EXPECT_EQ(kMaxObjectSizeBytes, 5ULL * 1024 * 1024 * 1024 * 1024);
  EXPECT_EQ(kMaxParts, 10000);
  EXPECT_EQ(kMaxDeleteKeys, 1000U);
}

// --- ETags and encodings ---------------------------------------------------------------------

TEST(MultipartEtag, IsMd5OfTheConcatenatedPartMd5sWithThePartCount) {
  const std::string a(5 * 1024 * 1024, 'a');
  const std::string b = "tail";
  const auto da = RawMd5(a);
  const auto db = RawMd5(b);
  std::string concatenated(reinterpret_cast<const char*>(da.data()), 16);
  concatenated.append(reinterpret_cast<const char*>(db.data()), 16);
  EXPECT_EQ(MultipartEtag({da, db}), Md5Hex(concatenated) + "-2");
}

TEST(MultipartEtag, OfOnePartIsNotThePlainMd5) {
  const auto digest = RawMd5("hello world");
  const std::string etag = MultipartEtag({digest});
  EXPECT_TRUE(etag.ends_with("-1"));
  EXPECT_NE(etag.substr(0, 32), Md5Hex("hello world"));
  // A known value: md5(md5("hello world")) computed independently (python hashlib).
  EXPECT_EQ(etag, "241d8a27c836427bd7f04461b60e7359-1");
}

TEST(Base64, EncodesContentMd5AsRfc1864Wants) {
  EXPECT_EQ(Base64(""), "");
  EXPECT_EQ(Base64("f"), "Zg==");
  EXPECT_EQ(Base64("fo"), "Zm8=");
  EXPECT_EQ(Base64("foo"), "Zm9v");
  const auto digest = RawMd5("");
  EXPECT_EQ(Base64(std::string_view(reinterpret_cast<const char*>(digest.data()), 16)),
            "1B2M2Y8AsgTpgAmY7PhCfg==");
}

TEST(UnquoteEtag, RemovesQuotesAndWeakPrefix) {
  EXPECT_EQ(UnquoteEtag("\"abc\""), "abc");
  EXPECT_EQ(UnquoteEtag("W/\"abc\""), "abc");
  EXPECT_EQ(UnquoteEtag("abc"), "abc");
  EXPECT_EQ(UnquoteEtag("&quot;abc&quot;"), "abc");
  EXPECT_EQ(UnquoteEtag(""), "");
}

// --- Dates and Retry-After -------------------------------------------------------------------

TEST(Dates, ParsesIso8601WithAndWithoutFraction) {
  using namespace std::chrono;
  const auto expected = sys_days{year{2026} / November / 21} + hours(9) + minutes(15) + seconds(30);
  EXPECT_EQ(ParseIso8601("2026-11-21T09:15:30.000Z").value(), expected);
  EXPECT_EQ(ParseIso8601("2026-11-21T09:15:30Z").value(), expected);
  EXPECT_EQ(ParseIso8601("2026-11-21T09:15:30.25Z").value(), expected + milliseconds(250));
  EXPECT_FALSE(ParseIso8601("2026-11-21 09:15:30"));
  EXPECT_FALSE(ParseIso8601("2026-13-21T09:15:30Z"));
  EXPECT_FALSE(ParseIso8601(""));
}

TEST(Dates, ParsesHttpDates) {
  using namespace std::chrono;
  const auto expected = sys_days{year{2026} / November / 21} + hours(9) + minutes(15) + seconds(30);
  EXPECT_EQ(ParseHttpDate("Sat, 21 Nov 2026 09:15:30 GMT").value(), expected);
  EXPECT_FALSE(ParseHttpDate("Sat, 21 Foo 2026 09:15:30 GMT"));
  EXPECT_FALSE(ParseHttpDate("2026-11-21T09:15:30Z"));
}

TEST(RetryAfter, AcceptsSecondsOrAnHttpDate) {
  using namespace std::chrono;
  const auto now = sys_days{year{2026} / November / 21} + hours(9) + minutes(15) + seconds(0);
  EXPECT_EQ(ParseRetryAfter("3", now), milliseconds(3000));
  EXPECT_EQ(ParseRetryAfter("Sat, 21 Nov 2026 09:15:30 GMT", now), milliseconds(30000));
  EXPECT_EQ(ParseRetryAfter("Sat, 21 Nov 2026 09:14:30 GMT", now), milliseconds(0));
  EXPECT_EQ(ParseRetryAfter(std::nullopt, now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("soon", now), std::nullopt);
}

TEST(FullJitter, IsUniformBelowTheCappedExponentialStep) {
  const milliseconds base(100);
  const milliseconds cap(20000);
  EXPECT_EQ(FullJitterDelay(base, cap, 1, 0.0), milliseconds(0));
  EXPECT_EQ(FullJitterDelay(base, cap, 1, 0.5), milliseconds(50));
  EXPECT_EQ(FullJitterDelay(base, cap, 3, 0.5), milliseconds(200));
  EXPECT_LT(FullJitterDelay(base, cap, 3, 0.999), milliseconds(400));
  EXPECT_EQ(FullJitterDelay(base, cap, 30, 0.5), milliseconds(10000));
  EXPECT_LE(FullJitterDelay(base, cap, 1000, 0.9999), cap);
}

// --- Errors and retry classification --------------------------------------------------------

TEST(MapS3Error, MapsCodesFirstThenStatus) {
  EXPECT_EQ(MapS3Error(404, "NoSuchKey"), ErrorCode::NotFound);
  EXPECT_EQ(MapS3Error(404, "NoSuchBucket"), ErrorCode::NotFound);
  EXPECT_EQ(MapS3Error(404, "NoSuchUpload"), ErrorCode::NotFound);
  EXPECT_EQ(MapS3Error(404, ""), ErrorCode::NotFound);
  EXPECT_EQ(MapS3Error(403, "AccessDenied"), ErrorCode::PermissionDenied);
  EXPECT_EQ(MapS3Error(403, "InvalidAccessKeyId"), ErrorCode::PermissionDenied);
  EXPECT_EQ(MapS3Error(403, "SignatureDoesNotMatch"), ErrorCode::PermissionDenied);
  EXPECT_EQ(MapS3Error(400, "ExpiredToken"), ErrorCode::PermissionDenied);
  EXPECT_EQ(MapS3Error(403, ""), ErrorCode::PermissionDenied);
  EXPECT_EQ(MapS3Error(503, "SlowDown"), ErrorCode::Throttled);
  EXPECT_EQ(MapS3Error(503, ""), ErrorCode::Throttled);
  EXPECT_EQ(MapS3Error(500, "InternalError"), ErrorCode::Transient);
  EXPECT_EQ(MapS3Error(400, "RequestTimeout"), ErrorCode::Transient);
  EXPECT_EQ(MapS3Error(502, ""), ErrorCode::Transient);
  EXPECT_EQ(MapS3Error(504, ""), ErrorCode::Transient);
  EXPECT_EQ(MapS3Error(416, "InvalidRange"), ErrorCode::InvalidArgument);
  EXPECT_EQ(MapS3Error(416, ""), ErrorCode::InvalidArgument);
  EXPECT_EQ(MapS3Error(400, "BadDigest"), ErrorCode::Corrupt);
  EXPECT_EQ(MapS3Error(501, "NotImplemented"), ErrorCode::Unsupported);
  EXPECT_EQ(MapS3Error(400, "EntityTooSmall"), ErrorCode::InvalidArgument);
  EXPECT_EQ(MapS3Error(409, "BucketNotEmpty"), ErrorCode::InvalidArgument);
  EXPECT_EQ(MapS3Error(200, "SomethingOdd"), ErrorCode::Internal);
}

TEST(MapS3Error, RetriesExactly500To504SlowDownAndRequestTimeout) {
  for (const int status : {500, 502, 503, 504}) {
    EXPECT_TRUE(IsRetryable(MapS3Error(status, ""))) << status;
  }
  EXPECT_TRUE(IsRetryable(MapS3Error(503, "SlowDown")));
  EXPECT_TRUE(IsRetryable(MapS3Error(400, "RequestTimeout")));
  EXPECT_TRUE(IsRetryable(MapS3Error(200, "InternalError")));  // a 200 carrying <Error>
  for (const int status : {400, 401, 403, 404, 405, 409, 411, 412, 416, 429, 501}) {
    EXPECT_FALSE(IsRetryable(MapS3Error(status, ""))) << status;
  }
  for (const char* code : {"AccessDenied", "NoSuchKey", "InvalidArgument", "BadDigest",
                           "SignatureDoesNotMatch", "EntityTooLarge", "InvalidPart"}) {
    EXPECT_FALSE(IsRetryable(MapS3Error(400, code))) << code;
  }
}

TEST(ErrorDocument, ParsesCodeMessageAndRequestId) {
  const auto document = ParseErrorDocument(
      R"(<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>
<Key>a/b</Key><RequestId>tx00000abc</RequestId><HostId>h</HostId></Error>)");
  ASSERT_TRUE(document);
  EXPECT_EQ(document->code, "NoSuchKey");
  EXPECT_EQ(document->message, "The specified key does not exist.");
  EXPECT_EQ(document->request_id, "tx00000abc");
}

TEST(ErrorDocument, IsAbsentForEmptyOrOtherBodies) {
  EXPECT_FALSE(ParseErrorDocument(""));
  EXPECT_FALSE(ParseErrorDocument("not xml <"));
  EXPECT_FALSE(ParseErrorDocument("<CompleteMultipartUploadResult/>"));
}

// --- ListObjectsV2 ---------------------------------------------------------------------------

constexpr std::string_view kListPage = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix>runs%2F</Prefix><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys>
  <Delimiter>%2F</Delimiter><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <Contents>
    <Key>runs/a+b%2Bc%C3%A9.txt</Key><LastModified>2026-11-21T09:15:30.000Z</LastModified>
    <ETag>&quot;5eb63bbbe01eeed093cb22bb8f5acdc3&quot;</ETag><Size>11</Size>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <Contents>
    <Key>runs/big.bin</Key><LastModified>2026-11-21T09:16:00Z</LastModified>
    <ETag>"0123456789abcdef0123456789abcdef-25"</ETag><Size>209715200</Size>
  </Contents>
  <CommonPrefixes><Prefix>runs/sub%20dir/</Prefix></CommonPrefixes>
</ListBucketResult>)";

TEST(ListObjectsV2, ParsesKeysSizesEtagsPrefixesAndToken) {
  const auto page = ParseListObjectsV2(kListPage);
  ASSERT_TRUE(page) << page.error().ToString();
  ASSERT_EQ(page->objects.size(), 2U);
  EXPECT_EQ(page->objects[0].key, "runs/a b+cé.txt");  // '+' is a space, %2B a plus
  EXPECT_EQ(page->objects[0].size_bytes, 11U);
  EXPECT_EQ(page->objects[0].etag, "5eb63bbbe01eeed093cb22bb8f5acdc3");
  EXPECT_EQ(page->objects[1].etag, "0123456789abcdef0123456789abcdef-25");
  EXPECT_EQ(page->objects[1].size_bytes, 209715200U);
  EXPECT_EQ(page->objects[1].last_modified - page->objects[0].last_modified,
            std::chrono::seconds(30));
  EXPECT_EQ(page->common_prefixes, std::vector<std::string>{"runs/sub dir/"});
  EXPECT_EQ(page->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

TEST(ListObjectsV2, LeavesKeysAloneWhenTheServerDidNotEncodeThem) {
  std::string xml(kListPage);
  xml.erase(xml.find("<EncodingType>url</EncodingType>"), 32);
  const auto page = ParseListObjectsV2(xml);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->objects[0].key, "runs/a+b%2Bc%C3%A9.txt");
}

TEST(ListObjectsV2, BadEscapeInAnEncodedKeyIsCorrupt) {
  const auto page = ParseListObjectsV2(
      "<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>a%zz</Key><Size>1</Size>"
      "<LastModified>2026-11-21T09:15:30Z</LastModified></Contents></ListBucketResult>");
  ASSERT_FALSE(page);
  EXPECT_EQ(page.error().code, ErrorCode::Corrupt);
}

TEST(ListObjectsV2, LastPageHasNoToken) {
  const auto page = ParseListObjectsV2(
      "<ListBucketResult><IsTruncated>false</IsTruncated><KeyCount>0</KeyCount>"
      "</ListBucketResult>");
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->objects.empty());
  EXPECT_TRUE(page->next_continuation_token.empty());
}

TEST(ListObjectsV2, MalformedDocumentsAreCorrupt) {
  EXPECT_EQ(ParseListObjectsV2("<ListBucketResult>").error().code, ErrorCode::Corrupt);
  EXPECT_EQ(ParseListObjectsV2("<Other/>").error().code, ErrorCode::Corrupt);
  EXPECT_EQ(ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated>"
                               "</ListBucketResult>")
                .error()
                .code,
            ErrorCode::Corrupt);
  EXPECT_EQ(ParseListObjectsV2("<ListBucketResult><Contents><Key>k</Key><Size>x</Size>"
                               "</Contents></ListBucketResult>")
                .error()
                .code,
            ErrorCode::Corrupt);
  EXPECT_EQ(ParseListObjectsV2("<ListBucketResult><Contents><Key>k</Key><Size>1</Size>"
                               "<LastModified>yesterday</LastModified></Contents>"
                               "</ListBucketResult>")
                .error()
                .code,
            ErrorCode::Corrupt);
}

// --- Multipart documents ---------------------------------------------------------------------

TEST(GetObjectTagging, ParsesEveryTagAndRefusesOtherDocumentsAndRepeatedKeys) {
  const auto tags = ParseGetObjectTagging(
      R"(<?xml version="1.0" encoding="UTF-8"?>
<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>
<Tag><Key>SourceID</Key><Value>ACME-1</Value></Tag>
<Tag><Key>Logger</Key><Value>Gulf &amp; Surveyor</Value></Tag>
<Tag><Key>empty</Key><Value></Value></Tag>
</TagSet></Tagging>)");
  ASSERT_TRUE(tags) << tags.error().ToString();
  EXPECT_EQ(*tags, (ObjectTags{{"SourceID", "ACME-1"}, {"Logger", "Gulf & Surveyor"}, {"empty", ""}}));
  const auto none = ParseGetObjectTagging("<Tagging><TagSet/></Tagging>");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(ParseGetObjectTagging("<Error/>").error().code, ErrorCode::Corrupt);
  const auto rgw_empty = ParseGetObjectTagging("");  // Ceph RGW 16.2, object without tags
  ASSERT_TRUE(rgw_empty);
  EXPECT_TRUE(rgw_empty->empty());
  const ObjectTags round_trip{{"a b", "x & <y>"}, {"k", ""}};
  const auto reparsed = ParseGetObjectTagging(BuildTagging(round_trip));
  ASSERT_TRUE(reparsed) << reparsed.error().ToString();
  EXPECT_EQ(*reparsed, round_trip);
  EXPECT_EQ(ParseGetObjectTagging("<Tagging><TagSet><Tag><Key>k</Key><Value>1</Value></Tag>"
                                  "<Tag><Key>k</Key><Value>2</Value></Tag></TagSet></Tagging>")
                .error()
                .code,
            ErrorCode::Corrupt);
}

TEST(Multipart, ParsesTheUploadIdOfInitiate) {
  const auto id = ParseInitiateMultipartUpload(
      R"(<?xml version="1.0" encoding="UTF-8"?>
<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
<Bucket>bucket</Bucket><Key>big.bin</Key><UploadId>2~abcDEF</UploadId>
</InitiateMultipartUploadResult>)");
  ASSERT_TRUE(id);
  EXPECT_EQ(*id, "2~abcDEF");
  EXPECT_EQ(ParseInitiateMultipartUpload("<InitiateMultipartUploadResult/>").error().code,
            ErrorCode::Corrupt);
}

TEST(Multipart, BuildsCompleteWithQuotedEtagsInPartOrder) {
  EXPECT_EQ(BuildCompleteMultipartUpload({"aa", "bb"}),
            "<?xml version=\"1.0\"?>"
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<Part><PartNumber>1</PartNumber><ETag>\"aa\"</ETag></Part>"
            "<Part><PartNumber>2</PartNumber><ETag>\"bb\"</ETag></Part>"
            "</CompleteMultipartUpload>");
}

TEST(Multipart, ParsesTheEtagOfComplete) {
  const auto etag = ParseCompleteMultipartUpload(
      R"(<CompleteMultipartUploadResult><Location>http://x/b/k</Location><Bucket>b</Bucket>
<Key>k</Key><ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag></CompleteMultipartUploadResult>)");
  ASSERT_TRUE(etag);
  EXPECT_EQ(*etag, "3858f62230ac3c915f300c664312c11f-9");
  EXPECT_EQ(ParseCompleteMultipartUpload("<Error><Code>InternalError</Code></Error>").error().code,
            ErrorCode::Corrupt);
}

TEST(Multipart, CompleteWithAnEmptyEtagAsCephRgw16SendsParsesToEmpty) {
  const auto etag = ParseCompleteMultipartUpload(
      R"(<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Location>localhost/sluice-dev/dbg</Location><Bucket>sluice-dev</Bucket><Key>dbg</Key><ETag></ETag></CompleteMultipartUploadResult>)");
  ASSERT_TRUE(etag);
  EXPECT_EQ(*etag, "");
}

TEST(Multipart, ParsesCopyResults) {
  EXPECT_EQ(ParseCopyResult("<CopyObjectResult><LastModified>2026-11-21T09:15:30.000Z"
                            "</LastModified><ETag>\"abc\"</ETag></CopyObjectResult>")
                .value(),
            "abc");
  EXPECT_EQ(ParseCopyResult("<CopyPartResult><ETag>&quot;def&quot;</ETag></CopyPartResult>")
                .value(),
            "def");
  EXPECT_FALSE(ParseCopyResult("<CopyObjectResult/>"));
}

TEST(Multipart, ParsesListMultipartUploadsWithPaging) {
  const auto page = ParseListMultipartUploads(
      R"(<ListMultipartUploadsResult><Bucket>b</Bucket><EncodingType>url</EncodingType>
<IsTruncated>true</IsTruncated>
<NextKeyMarker>runs/b%20c</NextKeyMarker><NextUploadIdMarker>u2</NextUploadIdMarker>
<Upload><Key>runs/a</Key><UploadId>u1</UploadId><Initiated>2026-11-21T09:15:30.000Z</Initiated></Upload>
<Upload><Key>runs/b%20c</Key><UploadId>u2</UploadId><Initiated>2026-11-21T09:15:31.000Z</Initiated></Upload>
</ListMultipartUploadsResult>)");
  ASSERT_TRUE(page) << page.error().ToString();
  ASSERT_EQ(page->uploads.size(), 2U);
  EXPECT_EQ(page->uploads[1].key, "runs/b c");
  EXPECT_EQ(page->uploads[1].upload_id, "u2");
  EXPECT_EQ(page->next_key_marker, "runs/b c");
  EXPECT_EQ(page->next_upload_id_marker, "u2");
}

// --- DeleteObjects ---------------------------------------------------------------------------

TEST(DeleteObjects, BuildsAQuietRequestWithEscapedKeys) {
  EXPECT_EQ(BuildDeleteObjects({"a", "b&<c>"}),
            "<?xml version=\"1.0\"?>"
            "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>"
            "<Object><Key>a</Key></Object><Object><Key>b&amp;&lt;c&gt;</Key></Object></Delete>");
}

TEST(DeleteObjects, ParsesPerKeyErrors) {
  const auto failures = ParseDeleteObjects(
      "<DeleteResult><Deleted><Key>ok</Key></Deleted><Error><Key>k</Key><Code>AccessDenied"
      "</Code><Message>Access Denied</Message></Error></DeleteResult>");
  ASSERT_TRUE(failures);
  ASSERT_EQ(failures->size(), 1U);
  EXPECT_EQ((*failures)[0].key, "k");
  EXPECT_EQ((*failures)[0].code, "AccessDenied");
  EXPECT_TRUE(ParseDeleteObjects("<DeleteResult/>").value().empty());
  EXPECT_FALSE(ParseDeleteObjects("<Oops/>"));
}

}  // namespace
}  // namespace sluice::s3
