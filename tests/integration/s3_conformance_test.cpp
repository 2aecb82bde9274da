// The ObjectStore conformance suite of tests/unit/store against s3:// on the Ceph RGW of the
// ceph_rgw fixture: the same tests as file:// and memory://, each in a fresh bucket that is
// emptied and deleted afterwards. Two backends:
//   s3           "s3://<bucket>": keys at the bucket's root;
//   s3_prefixed  "s3://<bucket>/root/dir": keys below a root prefix, with decoy objects next to
//                it ("root/di", "root/dir-sibling", "root/dirt/x", "outside") that the store must
//                never list, return or delete.

#if __has_include("store/conformance_suite.hpp")
#include "store/conformance_suite.hpp"
#define SLUICE_IT_SUITE_HEADER 1
#else
// Until the suite moves into tests/unit/store/conformance_suite.hpp, compile the unit test file
// itself: its file:// and memory:// instantiations then come along too, and CMake runs only the
// S3/ ones here (--gtest_filter).
#include "store/conformance_test.cpp"  // NOLINT(bugprone-suspicious-include)
#endif

#include <fmt/format.h>

#include <map>
#include <string>
#include <vector>

#include "s3_test_env.hpp"

namespace sluice {
namespace {

constexpr std::string_view kRootPrefix = "root/dir";
/// Objects next to the root prefix of s3_prefixed; each test checks they survive untouched.
const std::vector<std::string>& Decoys() {
  static const std::vector<std::string> decoys = {"root/di", "root/dir-sibling", "root/dirt/x",
                                                  "outside", "root/dir.txt"};
  return decoys;
}

std::string BucketOf(const std::string& test_id, bool prefixed) {
  // One bucket per test: a fresh, empty namespace whatever the previous test left.
  return it::UniqueBucketName(fmt::format("conf{}-{}", prefixed ? "p" : "", test_id));
}

/// test_id -> bucket, so the cleanup finds the bucket the factory made.
std::map<std::string, std::string>& Buckets() {
  static std::map<std::string, std::string> buckets;
  return buckets;
}

Backend S3Backend(bool prefixed) {
  Backend backend{
      prefixed ? "s3_prefixed" : "s3",
      [prefixed](const std::string& test_id) -> Result<std::unique_ptr<ObjectStore>> {
        SLUICE_ASSIGN_OR_RETURN(const auto env, it::LoadS3Env());
        const std::string bucket = BucketOf(test_id, prefixed);
        SLUICE_RETURN_IF_ERROR(it::CreateBucket(env, bucket));
        Buckets()[test_id] = bucket;
        if (!prefixed) return MakeObjectStore("s3://" + bucket, it::StoreOptionsFor(env));
        SLUICE_ASSIGN_OR_RETURN(auto bucket_store, OpenS3Store(it::StoreConfigFor(env, bucket)));
        for (const auto& decoy : Decoys()) SLUICE_RETURN_IF_ERROR(bucket_store->Put(decoy, decoy));
        return MakeObjectStore(fmt::format("s3://{}/{}", bucket, kRootPrefix),
                               it::StoreOptionsFor(env));
      },
      [prefixed](const std::string& test_id) {
        const auto found = Buckets().find(test_id);
        if (found == Buckets().end()) return;  // the factory failed before creating it
        const std::string bucket = found->second;
        Buckets().erase(found);
        const auto& env = it::LoadS3Env();
        if (prefixed) {
          auto bucket_store = OpenS3Store(it::StoreConfigFor(*env, bucket));
          ASSERT_TRUE(bucket_store) << bucket_store.error().ToString();
          for (const auto& decoy : Decoys()) {
            EXPECT_EQ((*bucket_store)->Get(decoy).value_or("<error>"), decoy)
                << "the store below " << kRootPrefix << " touched " << decoy;
          }
        }
        const auto deleted = it::DeleteBucket(*env, bucket);
        EXPECT_TRUE(deleted) << "cannot delete bucket " << bucket << ": "
                             << deleted.error().ToString();
      }};
#ifdef SLUICE_IT_SUITE_HEADER
  // S3's continuation tokens are opaque (RGW's happen to be the last full key, prefix included).
  backend.opaque_continuation_tokens = true;
#endif
  return backend;
}

INSTANTIATE_TEST_SUITE_P(S3, ObjectStoreConformance,
                         ::testing::Values(S3Backend(false), S3Backend(true)),
                         [](const ::testing::TestParamInfo<Backend>& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace sluice
