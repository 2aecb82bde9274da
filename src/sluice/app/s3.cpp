// `sluice s3 presign` and `sluice s3 cleanup-uploads`: thin wrappers over store/s3/s3_store.hpp.

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "sluice/app/commands.hpp"
#include "sluice/core/units.hpp"
#include "sluice/core/uri.hpp"
#include "sluice/store/s3/s3_store.hpp"

namespace sluice::app {
namespace {

// Opens "s3://bucket/key-or-prefix" and returns the store (bucket only) and the key part.
Result<std::pair<std::unique_ptr<S3Store>, std::string>> OpenBucket(const std::string& url) {
  SLUICE_ASSIGN_OR_RETURN(Uri uri, ParseUri(url));
  if (uri.scheme != "s3" || uri.authority.empty()) {
    return Fail(ErrorCode::InvalidArgument, "expected s3://bucket/key", url);
  }
  std::string key = uri.path.empty() ? "" : uri.path.substr(1);
  uri.path.clear();
  SLUICE_ASSIGN_OR_RETURN(auto store, MakeS3Store(uri, StoreOptions{}));
  return std::make_pair(std::move(store), std::move(key));
}

}  // namespace

void AddS3Command(CLI::App& app, int& exit_code) {
  auto* s3 = app.add_subcommand(
      "s3", "S3 chores. Endpoint, region and credentials come from the AWS chain\n"
            "(AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, AWS_REGION, AWS_PROFILE, ~/.aws/…).");
  s3->require_subcommand(1);

  auto* presign = s3->add_subcommand(
      "presign", "Print a presigned URL for s3://bucket/key (no request is sent).");
  auto url = std::make_shared<std::string>();
  auto expires = std::make_shared<std::string>("1h");
  auto method = std::make_shared<std::string>("GET");
  presign->add_option("URI", *url, "s3://bucket/key")->required();
  presign->add_option("--expires", *expires, "validity, 1s to 7d")->capture_default_str();
  presign->add_option("--method", *method, "GET or PUT")->capture_default_str();
  presign->callback([url, expires, method, &exit_code] {
    auto validity = ParseDuration(*expires);
    if (!validity) {
      exit_code = ReportError(validity.error());
      return;
    }
    auto opened = OpenBucket(*url);
    if (!opened) {
      exit_code = ReportError(opened.error());
      return;
    }
    auto signed_url = opened->first->Presign(
        *method, opened->second, std::chrono::duration_cast<std::chrono::seconds>(*validity));
    if (!signed_url) {
      exit_code = ReportError(signed_url.error());
      return;
    }
    fmt::print("{}\n", *signed_url);
    exit_code = kExitOk;
  });

  auto* cleanup = s3->add_subcommand(
      "cleanup-uploads",
      "Abort the multipart uploads below s3://bucket/prefix that were started longer ago than\n"
      "--older-than (left by crashed writers; their parts are billed until aborted).");
  auto prefix_url = std::make_shared<std::string>();
  auto older_than = std::make_shared<std::string>("24h");
  auto dry_run = std::make_shared<bool>(false);
  cleanup->add_option("URI", *prefix_url, "s3://bucket[/prefix]")->required();
  cleanup->add_option("--older-than", *older_than, "age of the uploads to abort")->capture_default_str();
  cleanup->add_flag("--dry-run", *dry_run, "list what would be aborted, abort nothing");
  cleanup->callback([prefix_url, older_than, dry_run, &exit_code] {
    auto age = ParseDuration(*older_than);
    if (!age) {
      exit_code = ReportError(age.error());
      return;
    }
    auto opened = OpenBucket(*prefix_url);
    if (!opened) {
      exit_code = ReportError(opened.error());
      return;
    }
    auto done = CleanupStaleUploads(*opened->first, opened->second, *age, *dry_run);
    if (!done) {
      exit_code = ReportError(done.error());
      return;
    }
    for (const auto& upload : done->aborted) {
      fmt::print("{} {} (started {:%F %T})\n", *dry_run ? "would abort" : "aborted", upload.key,
                 std::chrono::time_point_cast<std::chrono::seconds>(upload.initiated));
    }
    fmt::print("{} {} upload(s) older than {}; kept {} younger one(s)\n",
               *dry_run ? "would abort" : "aborted", done->aborted.size(), *older_than, done->kept);
    exit_code = kExitOk;
  });
}

}  // namespace sluice::app
