#pragma once
/// Slack incoming-webhook messages of s3_upload, word for word (research/s3_upload.md §1.9),
/// and the JSON bodies to POST. Text only: the caller sends them (HTTP POST,
/// `content-type: application/json`, 30 s timeout; a failure is logged, never fatal).
///
/// Bodies are byte-identical to Python's `json.dumps({"text": message})`: `{"text": "…"}` with a
/// space after the colon and every character outside ' '..'~' escaped (`•` → `\u2022`).
/// All functions are pure and thread-safe.

#include <span>
#include <string>
#include <string_view>

namespace sluice::illumina {

/// ":white_check_mark:  *S3 Upload*: Successfully uploaded N run[s]" then one
/// "\n\t\t• <run>" per run (no "s" when N == 1). Sent to the log webhook.
std::string SuccessMessage(std::span<const std::string> runs);

/// ":x:  *S3 Upload*: Failed uploading N run[s]" then one "\n\t\t• <run>" per run. Sent to the
/// alert webhook.
std::string FailureMessage(std::span<const std::string> runs);

/// s3_upload's `format_message(completed, failed)`: the success and failure messages of the
/// non-empty lists, joined by "\n\n" ("" when both are empty). Monitor mode posts them
/// separately; this is for callers wanting one post.
std::string CombinedMessage(std::span<const std::string> succeeded,
                            std::span<const std::string> failed);

/// AWS authentication error: ":warning:  *S3 Upload*: Error in connecting to AWS!\n\n" +
/// `message` (s3_upload's environment-variable messages are sent as they are).
std::string AwsAuthErrorMessage(std::string_view message);

/// AWS connection error: ":warning:  *S3 Upload*: Error in connecting to AWS!\n\n\t\t" + `error`.
std::string AwsConnectionErrorMessage(std::string_view error);

/// Bucket error: ":warning:  *S3 Upload*: Error in accessing specified S3 buckets!\n\n\t\tN
/// bucket(s) not accessible or do not exist: a, b".
std::string BucketErrorMessage(std::span<const std::string> buckets);

/// sluice's own alert (s3_upload had none; it skipped such runs silently, §1.5) for a run held
/// because of several differing samplesheets: ":warning:  *S3 Upload*: Run <run> held: <reason>".
/// `reason` as SamplesheetChoice::reason. The caller sends it once per run.
std::string HeldRunMessage(std::string_view run, std::string_view reason);

/// `{"text": <message>}` exactly as Python's json.dumps writes it (see the file comment).
std::string SlackPayload(std::string_view message);

/// `message` as a JSON string literal with Python json.dumps escaping (ensure_ascii): `"`, `\`,
/// \b \f \n \r \t, other controls and every non-ASCII code point as \uXXXX (UTF-16 surrogate
/// pairs above U+FFFF; an invalid UTF-8 byte becomes \ufffd).
std::string PythonJsonString(std::string_view text);

/// Body for the generic `webhook` of the config (sluice's own, not s3_upload's):
/// `{"source": "sluice", "event": "upload_summary", "succeeded": [...], "failed": [...],
/// "text": <CombinedMessage>}` with the same escaping.
std::string GenericWebhookPayload(std::span<const std::string> succeeded,
                                  std::span<const std::string> failed);

}  // namespace sluice::illumina
