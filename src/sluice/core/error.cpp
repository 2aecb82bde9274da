#include "sluice/core/error.hpp"

namespace sluice {

std::string_view ToString(ErrorCode code) {
  switch (code) {
    case ErrorCode::InvalidArgument: return "invalid_argument";
    case ErrorCode::NotFound: return "not_found";
    case ErrorCode::AlreadyExists: return "already_exists";
    case ErrorCode::PermissionDenied: return "permission_denied";
    case ErrorCode::Transient: return "transient";
    case ErrorCode::Throttled: return "throttled";
    case ErrorCode::Timeout: return "timeout";
    case ErrorCode::Corrupt: return "corrupt";
    case ErrorCode::Unsupported: return "unsupported";
    case ErrorCode::Cancelled: return "cancelled";
    case ErrorCode::Internal: return "internal";
  }
  return "internal";
}

bool IsRetryable(ErrorCode code) {
  return code == ErrorCode::Transient || code == ErrorCode::Throttled ||
         code == ErrorCode::Timeout;
}

std::string Error::ToString() const {
  if (context.empty()) return message;
  return context + ": " + message;
}

Error Error::WithContext(std::string_view outer) && {
  if (context.empty()) {
    context = std::string(outer);
  } else {
    context = std::string(outer) + ": " + context;
  }
  return std::move(*this);
}

}  // namespace sluice
