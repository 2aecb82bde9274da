#include "s3_test_env.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <random>
#include <thread>

#include "sluice/core/hash.hpp"
#include "sluice/store/s3/s3_protocol.hpp"

namespace sluice::it {
namespace {

Result<S3Env> ReadS3Env() {
  const auto get = [](const char* name) -> Result<std::string> {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') {
      return Fail(ErrorCode::InvalidArgument,
                  fmt::format("{} is not set: run the test through tests/integration/"
                              "with-ceph-env.sh (ctest -L integration does)",
                              name));
    }
    return std::string(value);
  };
  S3Env env;
  SLUICE_ASSIGN_OR_RETURN(env.endpoint, get("S3_ENDPOINT"));
  SLUICE_ASSIGN_OR_RETURN(env.access_key_id, get("AWS_ACCESS_KEY_ID"));
  SLUICE_ASSIGN_OR_RETURN(env.secret_access_key, get("AWS_SECRET_ACCESS_KEY"));
  SLUICE_ASSIGN_OR_RETURN(env.region, get("AWS_REGION"));
  if (!env.endpoint.starts_with("http://127.0.0.1:")) {
    // Only loopback traffic: a test must never reach a real S3.
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("S3_ENDPOINT={} is not http://127.0.0.1:<port>", env.endpoint));
  }
  return env;
}

}  // namespace

const Result<S3Env>& LoadS3Env() {
  static const Result<S3Env> env = ReadS3Env();
  return env;
}

std::string UniqueBucketName(std::string_view purpose) {
  static std::atomic<int> next{0};
  std::string name = fmt::format("sluice-it-{}-{}-{}", purpose, ::getpid(), next.fetch_add(1));
  for (auto& c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '_') c = '-';
  }
  if (name.size() > 63) name.erase(0, name.size() - 63);
  return name;
}

Result<std::unique_ptr<s3::S3Client>> BucketClient(const S3Env& env, const std::string& bucket) {
  return s3::S3Client::Make(StoreConfigFor(env, bucket).client);
}

Status CreateBucket(const S3Env& env, const std::string& bucket) {
  SLUICE_ASSIGN_OR_RETURN(auto client, BucketClient(env, bucket));
  s3::S3Call call;
  call.operation = "create bucket";
  call.method = "PUT";
  SLUICE_RETURN_IF_ERROR(client->Call(std::move(call)));
  return Ok();
}

Status DeleteBucket(const S3Env& env, const std::string& bucket) {
  SLUICE_ASSIGN_OR_RETURN(auto store, OpenS3Store(StoreConfigFor(env, bucket)));
  SLUICE_ASSIGN_OR_RETURN(auto client, BucketClient(env, bucket));
  Result<HttpResponse> deleted = Fail(ErrorCode::Internal, "not tried");
  for (int attempt = 0; attempt < 5; ++attempt) {
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(auto page, store->List({}));
      if (page.objects.empty()) break;
      std::vector<std::string> keys;
      for (const auto& object : page.objects) keys.push_back(object.key);
      SLUICE_RETURN_IF_ERROR(store->DeleteMany(keys));
    }
    SLUICE_ASSIGN_OR_RETURN(auto uploads, store->ListMultipartUploads(""));
    for (const auto& upload : uploads) {
      auto aborted = store->AbortMultipartUpload(upload.key, upload.upload_id);
      if (!aborted && aborted.error().code != ErrorCode::NotFound) return aborted;
    }
    s3::S3Call call;
    call.operation = "delete bucket";
    call.method = "DELETE";
    deleted = client->Call(std::move(call));
    // 409 BucketNotEmpty: an upload raced with the listing; empty it again.
    if (deleted || deleted.error().message.find("BucketNotEmpty") == std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  SLUICE_RETURN_IF_ERROR(deleted);
  return Ok();
}

S3StoreConfig StoreConfigFor(const S3Env& env, const std::string& bucket,
                             const std::string& root_prefix) {
  S3StoreConfig config;
  config.client.bucket = bucket;
  config.client.endpoint = env.endpoint;
  config.client.region = env.region;
  config.client.credentials = [keys = aws::Credentials{env.access_key_id, env.secret_access_key,
                                                       "", std::nullopt}]() -> Result<aws::Credentials> {
    return keys;
  };
  config.root_prefix = root_prefix;
  return config;
}

StoreOptions StoreOptionsFor(const S3Env& env) {
  StoreOptions options;
  options.endpoint = env.endpoint;
  options.region = env.region;
  return options;
}

ScopedBucket::ScopedBucket(std::string_view purpose) : name_(UniqueBucketName(purpose)) {
  const auto& env = LoadS3Env();
  if (!env) {
    ADD_FAILURE() << env.error().ToString();
    return;
  }
  const auto created = CreateBucket(*env, name_);
  if (!created) {
    ADD_FAILURE() << "cannot create bucket " << name_ << ": " << created.error().ToString();
    return;
  }
  created_ = true;
}

ScopedBucket::~ScopedBucket() {
  if (!created_) return;
  const auto deleted = DeleteBucket(*LoadS3Env(), name_);
  if (!deleted) ADD_FAILURE() << "cannot delete bucket " << name_ << ": " << deleted.error().ToString();
}

std::string ScopedBucket::Url(std::string_view root_prefix) const {
  if (root_prefix.empty()) return "s3://" + name_;
  return fmt::format("s3://{}/{}", name_, root_prefix);
}

std::string PseudoRandomBytes(std::size_t size, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::string bytes(size, '\0');
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    auto word = engine();
    for (std::size_t j = 0; j < 8; ++j, word >>= 8) bytes[i + j] = static_cast<char>(word & 0xffU);
  }
  for (auto word = engine(); i < size; ++i, word >>= 8) bytes[i] = static_cast<char>(word & 0xffU);
  return bytes;
}

std::string ExpectedMultipartEtag(std::string_view bytes, std::size_t part_size_bytes) {
  Md5 of_digests;
  std::size_t parts = 0;
  for (std::size_t at = 0; at < bytes.size(); at += part_size_bytes, ++parts) {
    Md5 part;
    part.Update(bytes.substr(at, part_size_bytes));
    const auto digest = part.Finish();
    of_digests.Update(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
  }
  return fmt::format("{}-{}", of_digests.FinishHex(), parts);
}

}  // namespace sluice::it
