#pragma once
/// Regular expressions written for s3_upload (Python `re`), run with std::regex.
///
/// s3_upload's config holds two kinds of patterns, both used with `re.search` (unanchored):
/// `sample_regex` against each sample name, and `exclude_patterns` against each file's absolute
/// path (research/s3_upload.md §1.4 step 4, §1.7). sluice keeps those configs working unchanged,
/// so a pattern is first translated from Python syntax to ECMAScript (the std::regex grammar
/// closest to Python's) and then compiled.
///
/// Translated (same meaning):
/// - `(?P<name>…)` named groups become plain groups; `(?#…)` comments are dropped;
/// - `\A` → `^`, `\Z` → `$` (std::regex without `multiline`: both anchor the whole input);
/// - a leading global flag group `(?i)` (case-insensitive); `(?s)`, `(?a)`, `(?u)`, `(?L)` are
///   accepted and ignored (paths and sample names hold no newline; see below for ASCII);
/// - `{,n}` → `{0,n}`; a `{` or `}` that is not a quantifier is a literal, as in Python;
/// - `]` first in a character class (`[]a]`, `[^]a]`) is a literal, as in Python.
/// Rejected with ErrorCode::Unsupported (no ECMAScript equivalent): look-behind `(?<=…)` and
/// `(?<!…)`, named back-references `(?P=name)`, scoped flags `(?i:…)`, verbose/multiline/locale
/// flags `(?x)` `(?m)`, atomic groups `(?>…)` and possessive quantifiers (Python ≥ 3.11).
/// Remaining differences, accepted: `\d`, `\w`, `\s`, `\b` are ASCII-only here (Unicode in
/// Python 3 `str` patterns); Python's `$` also matches before one final `\n` (irrelevant for
/// file names and sample names).

#include <memory>
#include <regex>
#include <string>
#include <string_view>

#include "sluice/core/error.hpp"

namespace sluice::illumina {

/// A Python pattern rewritten for std::regex.
struct TranslatedRegex {
  std::string ecmascript;  ///< the pattern for std::regex::ECMAScript
  bool icase = false;      ///< compile with std::regex::icase
};

/// Translates a Python `re` pattern to an ECMAScript std::regex pattern per the rules above.
/// `icase` is set when the pattern starts with a `(?i)` flag group. InvalidArgument for a
/// malformed pattern found while translating (a trailing `\`, an unclosed `(?…`), Unsupported
/// for Python-only syntax. Thread-safe.
Result<TranslatedRegex> TranslatePythonRegex(std::string_view python_pattern);

/// A compiled pattern with `re.search` semantics (matches anywhere in the text).
/// Immutable once compiled; copies share the compiled automaton. Search() is const and safe to
/// call from several threads at once (std::regex matching does not mutate the regex).
class PyRegex {
 public:
  /// Translates and compiles `python_pattern`. InvalidArgument ("…: <std::regex error>") when
  /// it does not compile, Unsupported per TranslatePythonRegex. Thread-safe.
  static Result<PyRegex> Compile(std::string_view python_pattern);

  /// True when the pattern matches somewhere in `text` (Python `re.search(p, text) is not None`).
  [[nodiscard]] bool Search(std::string_view text) const;

  /// The pattern as written in the config (Python syntax).
  [[nodiscard]] const std::string& Pattern() const { return pattern_; }

 private:
  PyRegex() = default;
  std::string pattern_;
  std::shared_ptr<const std::regex> regex_;
};

}  // namespace sluice::illumina
