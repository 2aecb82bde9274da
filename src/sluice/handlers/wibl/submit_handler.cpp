#include "sluice/handlers/wibl/submit_handler.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "sluice/core/http_client.hpp"
#include "sluice/handlers/wibl/csb_validate.hpp"
#include "sluice/handlers/wibl/dcdb_submit.hpp"
#include "sluice/handlers/wibl/handler_io.hpp"

namespace sluice::wibl {

namespace {

/// Suffix of receipt keys.
constexpr std::string_view kReceiptSuffix = ".dcdb.json";

struct SubmitHandlerOptions {
  DcdbSubmitOptions submit;
  std::string store;  ///< empty: the event's store
  bool validate = true;
  std::chrono::milliseconds timeout{std::chrono::minutes(2)};
  std::string receipt_store;  ///< empty: no receipts
  std::string receipt_prefix;
};

std::string UtcNow() {
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", now);
}

class SubmitHandler final : public Handler {
 public:
  SubmitHandler(SubmitHandlerOptions options, Resources resources)
      : options_(std::move(options)),
        resources_(std::move(resources)),
        http_(MakeHttpOptions(options_)),
        submitter_(http_, options_.submit) {
    if (!options_.receipt_store.empty()) receipts_ = resources_.FindStore(options_.receipt_store);
  }

  std::vector<OutputTarget> Outputs() const override {
    if (options_.receipt_store.empty()) return {};
    return {{options_.receipt_store, options_.receipt_prefix, std::string(kReceiptSuffix)}};
  }

  Result<Outcome> Handle(const Event& event, HandlerContext& context) override {
    const std::string& store_name = options_.store.empty() ? event.store : options_.store;
    const std::string receipt_key =
        fmt::format("{}{}{}", options_.receipt_prefix, event.key, kReceiptSuffix);
    if (receipts_ != nullptr) {
      if (auto head = receipts_->Head(receipt_key); head) {
        Outcome outcome;
        outcome.summary = fmt::format("{}: already submitted (receipt {}/{}); not sent again",
                                      event.key, options_.receipt_store, receipt_key);
        return outcome;
      } else if (head.error().code != ErrorCode::NotFound) {
        return Fail(std::move(head).error().WithContext("receipt " + receipt_key));
      }
    }

    SLUICE_ASSIGN_OR_RETURN(internal::LoadedObject object,
                            internal::LoadObject(resources_, store_name, event.key));
    if (options_.validate) {
      CsbValidateOptions validate;
      validate.max_kept_violations = 10;
      auto report = ValidateCsbText(object.text, validate);
      if (!report) return Fail(std::move(report).error().WithContext(object.where));
      if (!report->Valid()) {
        return Fail(ErrorCode::InvalidArgument,
                    "not submitted: " + report->Summary(validate.max_kept_violations),
                    object.where);
      }
    }
    if (context.Cancelled()) {
      return Fail(ErrorCode::Cancelled, "cancelled before submitting", object.where);
    }

    // The conversion stage's tags name the vessel and logger (research §4); an object without
    // them (written by another tool, or a store without tags) is identified by its JSON.
    ObjectTags tags;
    if (object.store->Capabilities().object_tags) {
      auto got = object.store->GetTags(event.key);
      if (!got) return Fail(std::move(got).error().WithContext(object.where));
      tags = std::move(*got);
    }
    const auto tag = [&tags](std::string_view name) {
      const auto it = tags.find(name);
      return it == tags.end() ? std::string() : it->second;
    };
    DcdbFile file;
    file.file_name = std::string(internal::BaseName(event.key));
    file.geojson = std::move(object.text);
    file.source_id = tag("SourceID");
    const std::string logger = tag("Logger");
    const std::string from = logger.empty() ? std::string() : fmt::format(" (Logger={})", logger);
    auto receipt =
        submitter_.Submit(file, context.Deadline(), [&context] { return context.Cancelled(); });
    if (!receipt) return Fail(std::move(receipt).error().WithContext(object.where));

    Outcome outcome;
    if (receipt->dry_run) {
      outcome.summary = fmt::format("{}{}: dry run, would submit {} bytes as uniqueID {}",
                                    event.key, from, receipt->body_bytes, receipt->unique_id);
      return outcome;
    }
    outcome.summary =
        fmt::format("{}{}: submitted to DCDB as uniqueID {}, submission id(s) {}", event.key,
                    from, receipt->unique_id, fmt::join(receipt->submission_ids, ", "));
    if (receipts_ != nullptr) {
      const nlohmann::json record = {
          {"object", event.key},
          {"etag", event.etag},
          {"uniqueID", receipt->unique_id},
          {"submissionIds", receipt->submission_ids},
          {"message", receipt->message},
          {"attempts", receipt->attempts},
          {"uploadPoint", UrlWithoutQuery(options_.submit.upload_point)},
          {"submittedAt", UtcNow()},
      };
      if (auto put = receipts_->Put(receipt_key, record.dump(2) + "\n"); !put) {
        // Failing the job now would run it again and submit the file twice.
        spdlog::error("{} was submitted to DCDB but its receipt {} could not be written: {}",
                      event.key, receipt_key, put.error().ToString());
        outcome.summary += " (receipt NOT written)";
      } else {
        outcome.objects_written = 1;
      }
    }
    return outcome;
  }

 private:
  static HttpClientOptions MakeHttpOptions(const SubmitHandlerOptions& options) {
    HttpClientOptions http;
    http.total_timeout = options.timeout;
    http.max_collected_body_bytes = 1 << 20;  // DCDB answers with a few hundred bytes
    return http;
  }

  const SubmitHandlerOptions options_;
  const Resources resources_;
  HttpClient http_;
  DcdbSubmitter submitter_;
  ObjectStore* receipts_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<Handler>> MakeSubmitHandler(const Options& options,
                                                   const Resources& resources) {
  SLUICE_RETURN_IF_ERROR(options.CheckKeys(
      {"upload_point", "token", "provider_id", "dry_run", "store", "validate", "max_attempts",
       "initial_backoff", "max_backoff", "timeout", "receipt_store", "receipt_prefix"}));
  SubmitHandlerOptions parsed;
  SLUICE_ASSIGN_OR_RETURN(const auto upload_point, options.String("upload_point"));
  SLUICE_ASSIGN_OR_RETURN(const auto token, options.String("token"));
  SLUICE_ASSIGN_OR_RETURN(const auto provider_id, options.String("provider_id"));
  SLUICE_ASSIGN_OR_RETURN(const auto dry_run, options.Bool("dry_run"));
  SLUICE_ASSIGN_OR_RETURN(const auto store, options.String("store"));
  SLUICE_ASSIGN_OR_RETURN(const auto validate, options.Bool("validate"));
  SLUICE_ASSIGN_OR_RETURN(const auto max_attempts, options.Int("max_attempts"));
  SLUICE_ASSIGN_OR_RETURN(const auto initial_backoff, options.Duration("initial_backoff"));
  SLUICE_ASSIGN_OR_RETURN(const auto max_backoff, options.Duration("max_backoff"));
  SLUICE_ASSIGN_OR_RETURN(const auto timeout, options.Duration("timeout"));
  SLUICE_ASSIGN_OR_RETURN(const auto receipt_store, options.String("receipt_store"));
  SLUICE_ASSIGN_OR_RETURN(const auto receipt_prefix, options.String("receipt_prefix"));

  parsed.submit.upload_point = upload_point.value_or("");
  parsed.submit.token = token.value_or("");
  parsed.submit.provider_id = provider_id.value_or("");
  parsed.submit.dry_run = dry_run.value_or(false);
  parsed.store = store.value_or("");
  parsed.validate = validate.value_or(true);
  parsed.receipt_store = receipt_store.value_or("");
  parsed.receipt_prefix = receipt_prefix.value_or("");

  if (!parsed.submit.dry_run && parsed.submit.upload_point.empty()) {
    return Fail(options.MakeError("upload_point", "is required (unless dry_run = true)"));
  }
  if (!parsed.submit.dry_run && token && token->find_first_not_of(" \t\r\n") == std::string::npos) {
    // Most often an environment variable that is set but empty.
    return Fail(options.MakeError("token", "is empty"));
  }
  if (!parsed.submit.dry_run && !token) {
    return Fail(options.MakeError(
        "token", "is required (unless dry_run = true); write it as \"${DCDB_TOKEN}\""));
  }
  if (max_attempts) {
    if (*max_attempts < 1 || *max_attempts > 20) {
      return Fail(options.MakeError("max_attempts", "must be between 1 and 20"));
    }
    parsed.submit.retry.max_attempts = static_cast<int>(*max_attempts);
  }
  if (initial_backoff) parsed.submit.retry.initial_backoff = *initial_backoff;
  if (max_backoff) parsed.submit.retry.max_backoff = *max_backoff;
  if (parsed.submit.retry.max_backoff < parsed.submit.retry.initial_backoff) {
    return Fail(options.MakeError("max_backoff", "must not be shorter than initial_backoff"));
  }
  if (timeout) {
    if (timeout->count() <= 0) return Fail(options.MakeError("timeout", "must be positive"));
    parsed.timeout = *timeout;
  }
  if (auto checked = DcdbSubmitter::CheckOptions(parsed.submit); !checked) {
    const std::string_view key = checked.error().message.starts_with("upload_point")
                                     ? "upload_point"
                                 : checked.error().message.starts_with("token") ? "token"
                                                                                : "";
    return Fail(options.MakeError(key, checked.error().message));
  }
  if (store && resources.FindStore(*store) == nullptr) {
    return Fail(options.MakeError("store", fmt::format("unknown store '{}'", *store)));
  }
  if (receipt_store && resources.FindStore(*receipt_store) == nullptr) {
    return Fail(
        options.MakeError("receipt_store", fmt::format("unknown store '{}'", *receipt_store)));
  }
  return std::unique_ptr<Handler>(std::make_unique<SubmitHandler>(std::move(parsed), resources));
}

}  // namespace sluice::wibl
