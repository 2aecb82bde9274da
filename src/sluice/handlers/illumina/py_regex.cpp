#include "sluice/handlers/illumina/py_regex.hpp"

#include <fmt/format.h>

#include <cctype>

namespace sluice::illumina {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

/// Length of a valid Python quantifier `{m}`, `{m,}`, `{,n}`, `{m,n}` starting at `pattern[i]`
/// (which is '{'), or 0 when it is not one (Python then reads '{' as a literal).
std::size_t QuantifierLength(std::string_view pattern, std::size_t i) {
  std::size_t j = i + 1;
  std::size_t digits_before = 0;
  while (j < pattern.size() && IsDigit(pattern[j])) {
    ++j;
    ++digits_before;
  }
  if (j < pattern.size() && pattern[j] == '}') {
    return digits_before > 0 ? j - i + 1 : 0;
  }
  if (j >= pattern.size() || pattern[j] != ',') return 0;
  ++j;
  std::size_t digits_after = 0;
  while (j < pattern.size() && IsDigit(pattern[j])) {
    ++j;
    ++digits_after;
  }
  if (j >= pattern.size() || pattern[j] != '}') return 0;
  if (digits_before == 0 && digits_after == 0) return 0;  // "{,}" is a literal in Python
  return j - i + 1;
}

std::unexpected<Error> Unsupported(std::string_view pattern, std::string_view what) {
  return Fail(ErrorCode::Unsupported,
              fmt::format("{} is Python-only regex syntax with no std::regex equivalent", what),
              fmt::format("regex '{}'", pattern));
}

}  // namespace

Result<TranslatedRegex> TranslatePythonRegex(std::string_view pattern) {
  TranslatedRegex out;
  std::string& re = out.ecmascript;
  re.reserve(pattern.size() + 8);
  std::size_t i = 0;

  // Global flags are only legal at the very start in Python ≥ 3.11 (deprecated elsewhere
  // before); we accept one or more leading groups such as "(?i)" or "(?ai)".
  while (pattern.substr(i).starts_with("(?") && i + 2 < pattern.size() &&
         std::isalpha(static_cast<unsigned char>(pattern[i + 2])) != 0 && pattern[i + 2] != 'P') {
    std::size_t j = i + 2;
    while (j < pattern.size() && std::isalpha(static_cast<unsigned char>(pattern[j])) != 0) ++j;
    if (j >= pattern.size())
      return Fail(ErrorCode::InvalidArgument, "unclosed '(?' flag group",
                  fmt::format("regex '{}'", pattern));
    if (pattern[j] != ')') return Unsupported(pattern, "a scoped flag group '(?flags:...)'");
    for (char flag : pattern.substr(i + 2, j - i - 2)) {
      switch (flag) {
        case 'i':
          out.icase = true;
          break;
        case 's':
        case 'a':
        case 'u':
        case 'L':
          break;
        case 'm':
          return Unsupported(pattern, "the multiline flag '(?m)'");
        case 'x':
          return Unsupported(pattern, "the verbose flag '(?x)'");
        default:
          return Fail(ErrorCode::InvalidArgument, fmt::format("unknown flag '{}'", flag),
                      fmt::format("regex '{}'", pattern));
      }
    }
    i = j + 1;
  }

  bool in_class = false;
  std::size_t class_start = 0;  // index in `re` just after '[' or '[^'
  for (; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\') {
      if (i + 1 >= pattern.size()) {
        return Fail(ErrorCode::InvalidArgument, "pattern ends with a lone backslash",
                    fmt::format("regex '{}'", pattern));
      }
      const char next = pattern[++i];
      if (!in_class && next == 'A') {
        re += '^';
      } else if (!in_class && next == 'Z') {
        re += '$';
      } else {
        re += '\\';
        re += next;
      }
      continue;
    }
    if (in_class) {
      if (c == ']' && re.size() == class_start) {
        re += "\\]";  // Python: ']' first in a class is a literal
      } else {
        if (c == ']') in_class = false;
        re += c;
      }
      continue;
    }
    switch (c) {
      case '[':
        in_class = true;
        re += '[';
        if (i + 1 < pattern.size() && pattern[i + 1] == '^') {
          re += '^';
          ++i;
        }
        class_start = re.size();
        break;
      case '(':
        if (pattern.substr(i).starts_with("(?P<")) {
          const std::size_t close = pattern.find('>', i);
          if (close == std::string_view::npos) {
            return Fail(ErrorCode::InvalidArgument, "unclosed group name",
                        fmt::format("regex '{}'", pattern));
          }
          re += '(';
          i = close;
        } else if (pattern.substr(i).starts_with("(?P=")) {
          return Unsupported(pattern, "a named back-reference '(?P=name)'");
        } else if (pattern.substr(i).starts_with("(?#")) {
          const std::size_t close = pattern.find(')', i);
          if (close == std::string_view::npos) {
            return Fail(ErrorCode::InvalidArgument, "unclosed comment '(?#'",
                        fmt::format("regex '{}'", pattern));
          }
          i = close;
        } else if (pattern.substr(i).starts_with("(?<=") || pattern.substr(i).starts_with("(?<!")) {
          return Unsupported(pattern, "a look-behind assertion");
        } else if (pattern.substr(i).starts_with("(?>")) {
          return Unsupported(pattern, "an atomic group '(?>...)'");
        } else if (pattern.substr(i).starts_with("(?") && i + 2 < pattern.size() &&
                   std::isalpha(static_cast<unsigned char>(pattern[i + 2])) != 0) {
          return Unsupported(pattern, "a flag group not at the start of the pattern");
        } else {
          re += '(';
        }
        break;
      case '{': {
        const std::size_t length = QuantifierLength(pattern, i);
        if (length == 0) {
          re += "\\{";
        } else {
          std::string_view quantifier = pattern.substr(i, length);
          if (quantifier.starts_with("{,")) {
            re += "{0";
            re += quantifier.substr(1);
          } else {
            re += quantifier;
          }
          i += length - 1;
          if (i + 1 < pattern.size() && pattern[i + 1] == '+') {
            return Unsupported(pattern, "a possessive quantifier");
          }
        }
        break;
      }
      case '}':
        re += "\\}";
        break;
      case '*':
      case '+':
      case '?':
        re += c;
        if (i + 1 < pattern.size() && pattern[i + 1] == '+') {
          return Unsupported(pattern, "a possessive quantifier");
        }
        break;
      default:
        re += c;
    }
  }
  return out;
}

Result<PyRegex> PyRegex::Compile(std::string_view python_pattern) {
  SLUICE_ASSIGN_OR_RETURN(TranslatedRegex translated, TranslatePythonRegex(python_pattern));
  auto flags = std::regex::ECMAScript;
  if (translated.icase) flags |= std::regex::icase;
  PyRegex compiled;
  compiled.pattern_ = std::string(python_pattern);
  try {
    compiled.regex_ = std::make_shared<const std::regex>(translated.ecmascript, flags);
  } catch (const std::regex_error& e) {
    return Fail(ErrorCode::InvalidArgument, fmt::format("does not compile: {}", e.what()),
                fmt::format("regex '{}'", python_pattern));
  }
  return compiled;
}

bool PyRegex::Search(std::string_view text) const {
  return std::regex_search(text.begin(), text.end(), *regex_);
}

}  // namespace sluice::illumina
