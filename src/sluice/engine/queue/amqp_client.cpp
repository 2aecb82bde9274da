// librabbitmq adapter: the only file that includes <amqp.h>. Every librabbitmq status or reply is
// turned into an Error here. Any failure marks the connection broken: its owner drops it and opens
// a new one, and the broker returns that connection's unacknowledged deliveries to their queues.

#include "sluice/engine/queue/amqp_client.hpp"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <sys/time.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <map>

#include <fmt/format.h>

#include "sluice/core/uri.hpp"

namespace sluice {
namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(5);
constexpr auto kRpcTimeout = std::chrono::seconds(30);

amqp_bytes_t Bytes(std::string_view text) {
  amqp_bytes_t bytes;
  bytes.len = text.size();
  bytes.bytes = const_cast<char*>(text.data());  // librabbitmq never writes through it
  return bytes;
}

std::string ToStr(amqp_bytes_t bytes) {
  if (bytes.len == 0 || bytes.bytes == nullptr) return {};
  return std::string(static_cast<const char*>(bytes.bytes), bytes.len);
}

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

// Owns the librabbitmq structures of an AmqpTable for the duration of one call.
class EncodedTable {
 public:
  explicit EncodedTable(const AmqpTable& table) {
    entries_.reserve(table.size());
    arrays_.reserve(table.size());
    for (const auto& [key, value] : table) {
      amqp_table_entry_t entry{};
      entry.key = Bytes(key);
      if (const auto* text = std::get_if<std::string>(&value)) {
        entry.value.kind = AMQP_FIELD_KIND_UTF8;
        entry.value.value.bytes = Bytes(*text);
      } else if (const auto* number = std::get_if<std::int64_t>(&value)) {
        entry.value.kind = AMQP_FIELD_KIND_I64;
        entry.value.value.i64 = *number;
      } else {
        const auto& strings = std::get<std::vector<std::string>>(value);
        auto& array = arrays_.emplace_back();
        for (const auto& s : strings) {
          amqp_field_value_t item{};
          item.kind = AMQP_FIELD_KIND_UTF8;
          item.value.bytes = Bytes(s);
          array.push_back(item);
        }
        entry.value.kind = AMQP_FIELD_KIND_ARRAY;
        entry.value.value.array.num_entries = static_cast<int>(array.size());
        entry.value.value.array.entries = array.data();
      }
      entries_.push_back(entry);
    }
    table_.num_entries = static_cast<int>(entries_.size());
    table_.entries = entries_.empty() ? nullptr : entries_.data();
  }
  [[nodiscard]] amqp_table_t Get() const { return table_; }

 private:
  std::vector<amqp_table_entry_t> entries_;
  std::vector<std::vector<amqp_field_value_t>> arrays_;
  amqp_table_t table_{};
};

std::optional<std::int64_t> IntOf(const amqp_field_value_t& v) {
  switch (v.kind) {
    case AMQP_FIELD_KIND_I8: return v.value.i8;
    case AMQP_FIELD_KIND_U8: return v.value.u8;
    case AMQP_FIELD_KIND_I16: return v.value.i16;
    case AMQP_FIELD_KIND_U16: return v.value.u16;
    case AMQP_FIELD_KIND_I32: return v.value.i32;
    case AMQP_FIELD_KIND_U32: return v.value.u32;
    case AMQP_FIELD_KIND_I64: return v.value.i64;
    case AMQP_FIELD_KIND_U64: return static_cast<std::int64_t>(v.value.u64);
    default: return std::nullopt;
  }
}

AmqpTable DecodeTable(const amqp_table_t& table) {
  AmqpTable out;
  for (int i = 0; i < table.num_entries; ++i) {
    const amqp_table_entry_t& entry = table.entries[i];
    const std::string key = ToStr(entry.key);
    if (entry.value.kind == AMQP_FIELD_KIND_UTF8 || entry.value.kind == AMQP_FIELD_KIND_BYTES) {
      out.emplace_back(key, ToStr(entry.value.value.bytes));
    } else if (auto number = IntOf(entry.value)) {
      out.emplace_back(key, *number);
    } else if (entry.value.kind == AMQP_FIELD_KIND_ARRAY) {
      std::vector<std::string> strings;
      const amqp_array_t& array = entry.value.value.array;
      for (int j = 0; j < array.num_entries; ++j) {
        const amqp_field_value_t& item = array.entries[j];
        if (item.kind == AMQP_FIELD_KIND_UTF8 || item.kind == AMQP_FIELD_KIND_BYTES) {
          strings.push_back(ToStr(item.value.bytes));
        }
      }
      out.emplace_back(key, std::move(strings));
    }
  }
  return out;
}

void CopyProperties(const amqp_basic_properties_t& props, AmqpDelivery& out) {
  if ((props._flags & AMQP_BASIC_MESSAGE_ID_FLAG) != 0) out.message_id = ToStr(props.message_id);
  if ((props._flags & AMQP_BASIC_HEADERS_FLAG) != 0) out.headers = DecodeTable(props.headers);
}

}  // namespace

std::string AmqpUrl::Redacted() const {
  std::string out = fmt::format("amqp://{}:***@{}:{}/{}?queue={}", user, host, port,
                                vhost == "/" ? "%2f" : vhost, queue);
  if (!exchange.empty()) out += "&exchange=" + exchange;
  if (!routing_key.empty()) out += "&routing_key=" + routing_key;
  return out;
}

Result<AmqpUrl> ParseAmqpUrl(std::string_view text) {
  const std::string shown = RedactUrl(text);
  SLUICE_ASSIGN_OR_RETURN(Uri uri, ParseUri(text));
  const auto bad = [&](std::string message) { return Fail(ErrorCode::InvalidArgument, std::move(message), shown); };
  if (uri.scheme != "amqp") return bad(fmt::format("expected an amqp:// URL, got '{}://'", uri.scheme));
  AmqpUrl url;
  std::string_view authority = uri.authority;
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    const auto colon = userinfo.find(':');
    SLUICE_ASSIGN_OR_RETURN(url.user, PercentDecode(userinfo.substr(0, colon)));
    url.password.clear();
    if (colon != std::string_view::npos) {
      auto password = PercentDecode(userinfo.substr(colon + 1));
      if (!password) return bad("bad percent escape in the password");
      url.password = std::move(*password);
    }
  }
  std::string_view host = authority;
  if (const auto colon = authority.rfind(':'); colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    host = authority.substr(0, colon);
    const std::string_view port = authority.substr(colon + 1);
    int value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535) {
      return bad(fmt::format("bad port '{}'", port));
    }
    url.port = value;
  }
  if (host.empty()) return bad("missing host");
  url.host = std::string(host);
  std::string_view path = uri.path;
  if (path.starts_with('/')) path.remove_prefix(1);
  if (!path.empty()) {
    SLUICE_ASSIGN_OR_RETURN(url.vhost, PercentDecode(path));
  }
  for (const auto& [key, value] : uri.query) {
    if (key == "queue") {
      url.queue = value;
    } else if (key == "exchange") {
      url.exchange = value;
    } else if (key == "routing_key") {
      url.routing_key = value;
    } else {
      return bad(fmt::format("unknown parameter '{}' (known: queue, exchange, routing_key)", key));
    }
  }
  if (url.queue.empty()) return bad("queue= must not be empty");
  return url;
}

std::int64_t HeaderInt(const AmqpTable& table, std::string_view name) {
  for (const auto& [key, value] : table) {
    if (key == name) {
      if (const auto* n = std::get_if<std::int64_t>(&value)) return *n;
    }
  }
  return 0;
}

std::vector<std::string> HeaderStrings(const AmqpTable& table, std::string_view name) {
  for (const auto& [key, value] : table) {
    if (key == name) {
      if (const auto* s = std::get_if<std::vector<std::string>>(&value)) return *s;
    }
  }
  return {};
}

std::string HeaderString(const AmqpTable& table, std::string_view name) {
  for (const auto& [key, value] : table) {
    if (key == name) {
      if (const auto* s = std::get_if<std::string>(&value)) return *s;
    }
  }
  return {};
}

struct AmqpConnection::Impl {
  amqp_connection_state_t conn = nullptr;
  std::string where;  // redacted URL, for messages
  bool broken = false;
  std::set<std::uint16_t> open_channels;
  struct Confirms {
    std::uint64_t published = 0;  // sequence number of the last publish
    std::uint64_t confirmed = 0;  // all sequence numbers up to here were acked or nacked
    std::string failure;          // a nack or return since the last WaitConfirms
  };
  std::map<std::uint16_t, Confirms> confirms;

  ~Impl() {
    if (conn == nullptr) return;
    if (!broken) amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn);
  }

  std::unexpected<Error> Broke(std::string message) {
    broken = true;
    return Fail(ErrorCode::Transient, std::move(message), where);
  }

  // Converts an RPC reply; any failure breaks the connection (see the file comment).
  Status Check(const amqp_rpc_reply_t& reply, std::string_view what) {
    switch (reply.reply_type) {
      case AMQP_RESPONSE_NORMAL: return Ok();
      case AMQP_RESPONSE_NONE: return Broke(fmt::format("{}: no reply from the broker", what));
      case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        return Broke(fmt::format("{}: {}", what, amqp_error_string2(reply.library_error)));
      case AMQP_RESPONSE_SERVER_EXCEPTION: break;
    }
    std::uint16_t code = 0;
    std::string text;
    if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
      const auto* m = static_cast<const amqp_channel_close_t*>(reply.reply.decoded);
      code = m->reply_code;
      text = ToStr(m->reply_text);
    } else if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
      const auto* m = static_cast<const amqp_connection_close_t*>(reply.reply.decoded);
      code = m->reply_code;
      text = ToStr(m->reply_text);
      amqp_connection_close_ok_t ok{};
      amqp_send_method(conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
    }
    broken = true;
    ErrorCode error = ErrorCode::Transient;
    if (code == AMQP_NOT_FOUND) error = ErrorCode::NotFound;
    if (code == AMQP_ACCESS_REFUSED) error = ErrorCode::PermissionDenied;
    if (code == AMQP_PRECONDITION_FAILED || code == AMQP_NOT_ALLOWED) error = ErrorCode::InvalidArgument;
    return Fail(error, fmt::format("{}: broker replied {} {}", what, code, text), where);
  }

  Status Usable() {
    if (broken) return Fail(ErrorCode::Transient, "the AMQP connection is broken", where);
    return Ok();
  }

  Status Channel(std::uint16_t channel) {
    SLUICE_RETURN_IF_ERROR(Usable());
    if (open_channels.contains(channel)) return Ok();
    amqp_channel_open(conn, channel);
    SLUICE_RETURN_IF_ERROR(Check(amqp_get_rpc_reply(conn), fmt::format("channel.open {}", channel)));
    open_channels.insert(channel);
    return Ok();
  }

  Status CheckStatus(int status, std::string_view what) {
    if (status == AMQP_STATUS_OK) return Ok();
    return Broke(fmt::format("{}: {}", what, amqp_error_string2(status)));
  }

  // Handles an out-of-band method frame (confirms, returns, closes) read while waiting for
  // something else.
  Status HandleFrame(const amqp_frame_t& frame) {
    if (frame.frame_type != AMQP_FRAME_METHOD) return Ok();  // stray content of a skipped message
    const std::uint16_t channel = frame.channel;
    switch (frame.payload.method.id) {
      case AMQP_BASIC_ACK_METHOD: {
        const auto* ack = static_cast<const amqp_basic_ack_t*>(frame.payload.method.decoded);
        auto& c = confirms[channel];
        c.confirmed = std::max(c.confirmed, ack->delivery_tag);
        return Ok();
      }
      case AMQP_BASIC_NACK_METHOD: {
        const auto* nack = static_cast<const amqp_basic_nack_t*>(frame.payload.method.decoded);
        auto& c = confirms[channel];
        c.confirmed = std::max(c.confirmed, nack->delivery_tag);
        c.failure = "the broker refused (nacked) a published message";
        return Ok();
      }
      case AMQP_BASIC_RETURN_METHOD: {
        const auto* ret = static_cast<const amqp_basic_return_t*>(frame.payload.method.decoded);
        confirms[channel].failure = fmt::format("a published message was returned as unroutable ({} {}, routing key '{}')",
                                                ret->reply_code, ToStr(ret->reply_text), ToStr(ret->routing_key));
        amqp_message_t message;
        const amqp_rpc_reply_t reply = amqp_read_message(conn, channel, &message, 0);
        if (reply.reply_type == AMQP_RESPONSE_NORMAL) amqp_destroy_message(&message);
        return Ok();
      }
      case AMQP_CHANNEL_CLOSE_METHOD: {
        const auto* m = static_cast<const amqp_channel_close_t*>(frame.payload.method.decoded);
        return Broke(fmt::format("channel {} closed by the broker: {} {}", channel, m->reply_code, ToStr(m->reply_text)));
      }
      case AMQP_CONNECTION_CLOSE_METHOD: {
        const auto* m = static_cast<const amqp_connection_close_t*>(frame.payload.method.decoded);
        amqp_connection_close_ok_t ok{};
        amqp_send_method(conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
        return Broke(fmt::format("connection closed by the broker: {} {}", m->reply_code, ToStr(m->reply_text)));
      }
      case AMQP_BASIC_CANCEL_METHOD:
        return Broke(fmt::format("the broker cancelled the consumer on channel {} (was its queue deleted?)", channel));
      default:
        return Ok();
    }
  }
};

AmqpConnection::AmqpConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AmqpConnection::~AmqpConnection() = default;

bool AmqpConnection::Broken() const { return impl_->broken; }

Result<std::unique_ptr<AmqpConnection>> AmqpConnection::Open(const AmqpUrl& url, std::string_view client_name) {
  auto impl = std::make_unique<Impl>();
  impl->where = url.Redacted();
  impl->conn = amqp_new_connection();
  if (impl->conn == nullptr) return Fail(ErrorCode::Internal, "amqp_new_connection failed", impl->where);
  amqp_socket_t* socket = amqp_tcp_socket_new(impl->conn);
  if (socket == nullptr) return Fail(ErrorCode::Internal, "amqp_tcp_socket_new failed", impl->where);
  timeval connect_timeout = ToTimeval(kConnectTimeout);
  if (int rc = amqp_socket_open_noblock(socket, url.host.c_str(), url.port, &connect_timeout); rc != AMQP_STATUS_OK) {
    impl->broken = true;
    return Fail(ErrorCode::Transient, fmt::format("cannot connect: {}", amqp_error_string2(rc)), impl->where);
  }
  timeval rpc_timeout = ToTimeval(kRpcTimeout);
  amqp_set_rpc_timeout(impl->conn, &rpc_timeout);
  amqp_table_entry_t name_entry{};
  name_entry.key = amqp_cstring_bytes("connection_name");
  name_entry.value.kind = AMQP_FIELD_KIND_UTF8;
  name_entry.value.value.bytes = Bytes(client_name);
  amqp_table_t properties{1, &name_entry};
  const amqp_rpc_reply_t login = amqp_login_with_properties(
      impl->conn, url.vhost.c_str(), 0, AMQP_DEFAULT_FRAME_SIZE, /*heartbeat=*/0, &properties,
      AMQP_SASL_METHOD_PLAIN, url.user.c_str(), url.password.c_str());
  // a refused login is connection.close 403 (PermissionDenied); an unknown vhost is 530
  if (auto ok = impl->Check(login, "login"); !ok) return Fail(std::move(ok).error());
  return std::unique_ptr<AmqpConnection>(new AmqpConnection(std::move(impl)));
}

Result<AmqpQueueInfo> AmqpConnection::DeclareQueue(std::uint16_t channel, std::string_view name,
                                                   const AmqpTable& arguments) {
  SLUICE_RETURN_IF_ERROR(impl_->Channel(channel));
  EncodedTable args(arguments);
  const auto* ok = amqp_queue_declare(impl_->conn, channel, Bytes(name), /*passive=*/0, /*durable=*/1,
                                      /*exclusive=*/0, /*auto_delete=*/0, args.Get());
  SLUICE_RETURN_IF_ERROR(impl_->Check(amqp_get_rpc_reply(impl_->conn), fmt::format("queue.declare '{}'", name)));
  AmqpQueueInfo info;
  if (ok != nullptr) {
    info.messages = ok->message_count;
    info.consumers = ok->consumer_count;
  }
  return info;
}

Status AmqpConnection::DeclareExchange(std::uint16_t channel, std::string_view name, std::string_view type) {
  SLUICE_RETURN_IF_ERROR(impl_->Channel(channel));
  amqp_exchange_declare(impl_->conn, channel, Bytes(name), Bytes(type), /*passive=*/0, /*durable=*/1,
                        /*auto_delete=*/0, /*internal=*/0, amqp_empty_table);
  return impl_->Check(amqp_get_rpc_reply(impl_->conn), fmt::format("exchange.declare '{}'", name));
}

Status AmqpConnection::BindQueue(std::uint16_t channel, std::string_view queue, std::string_view exchange,
                                 std::string_view routing_key) {
  SLUICE_RETURN_IF_ERROR(impl_->Channel(channel));
  amqp_queue_bind(impl_->conn, channel, Bytes(queue), Bytes(exchange), Bytes(routing_key), amqp_empty_table);
  return impl_->Check(amqp_get_rpc_reply(impl_->conn),
                      fmt::format("queue.bind '{}' to '{}' with '{}'", queue, exchange, routing_key));
}

Status AmqpConnection::ConfirmSelect(std::uint16_t channel) {
  SLUICE_RETURN_IF_ERROR(impl_->Channel(channel));
  if (impl_->confirms.contains(channel)) return Ok();
  amqp_confirm_select(impl_->conn, channel);
  SLUICE_RETURN_IF_ERROR(impl_->Check(amqp_get_rpc_reply(impl_->conn), "confirm.select"));
  impl_->confirms[channel] = {};
  return Ok();
}

Status AmqpConnection::Publish(std::uint16_t channel, std::string_view exchange, std::string_view routing_key,
                               std::string_view body, const AmqpProperties& properties) {
  SLUICE_RETURN_IF_ERROR(impl_->Channel(channel));
  EncodedTable headers(properties.headers);
  amqp_basic_properties_t props{};
  props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_HEADERS_FLAG;
  props.content_type = Bytes(properties.content_type);
  props.delivery_mode = properties.persistent ? 2 : 1;
  props.headers = headers.Get();
  if (!properties.message_id.empty()) {
    props._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
    props.message_id = Bytes(properties.message_id);
  }
  const int rc = amqp_basic_publish(impl_->conn, channel, Bytes(exchange), Bytes(routing_key),
                                    /*mandatory=*/1, /*immediate=*/0, &props, Bytes(body));
  SLUICE_RETURN_IF_ERROR(impl_->CheckStatus(rc, fmt::format("basic.publish to '{}' '{}'", exchange, routing_key)));
  if (auto it = impl_->confirms.find(channel); it != impl_->confirms.end()) ++it->second.published;
  return Ok();
}

Status AmqpConnection::WaitConfirms(std::uint16_t channel, std::chrono::milliseconds timeout) {
  SLUICE_RETURN_IF_ERROR(impl_->Usable());
  auto it = impl_->confirms.find(channel);
  if (it == impl_->confirms.end()) return Fail(ErrorCode::Internal, "WaitConfirms on a channel without confirms", impl_->where);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (it->second.confirmed < it->second.published) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return impl_->Broke(fmt::format("no publisher confirm within {} ms ({} of {} confirmed)", timeout.count(),
                                      it->second.confirmed, it->second.published));
    }
    amqp_frame_t frame;
    timeval tv = ToTimeval(left);
    const int rc = amqp_simple_wait_frame_noblock(impl_->conn, &frame, &tv);
    if (rc == AMQP_STATUS_TIMEOUT) continue;
    SLUICE_RETURN_IF_ERROR(impl_->CheckStatus(rc, "waiting for publisher confirms"));
    SLUICE_RETURN_IF_ERROR(impl_->HandleFrame(frame));
  }
  if (!it->second.failure.empty()) {
    std::string failure = std::move(it->second.failure);
    it->second.failure.clear();
    return Fail(ErrorCode::Transient, failure, impl_->where);
  }
  return Ok();
}

Status AmqpConnection::Qos(std::uint16_t channel, int prefetch) {
  SLUICE_RETURN_IF_ERROR(impl_->Channel(channel));
  amqp_basic_qos(impl_->conn, channel, 0, static_cast<std::uint16_t>(std::clamp(prefetch, 1, 65535)), 0);
  return impl_->Check(amqp_get_rpc_reply(impl_->conn), "basic.qos");
}

Result<std::string> AmqpConnection::Consume(std::uint16_t channel, std::string_view queue) {
  SLUICE_RETURN_IF_ERROR(impl_->Channel(channel));
  const auto* ok = amqp_basic_consume(impl_->conn, channel, Bytes(queue), amqp_empty_bytes, /*no_local=*/0,
                                      /*no_ack=*/0, /*exclusive=*/0, amqp_empty_table);
  SLUICE_RETURN_IF_ERROR(impl_->Check(amqp_get_rpc_reply(impl_->conn), fmt::format("basic.consume '{}'", queue)));
  return ok == nullptr ? std::string() : ToStr(ok->consumer_tag);
}

Result<std::optional<AmqpDelivery>> AmqpConnection::NextDelivery(std::chrono::milliseconds timeout) {
  SLUICE_RETURN_IF_ERROR(impl_->Usable());
  amqp_maybe_release_buffers(impl_->conn);
  amqp_envelope_t envelope;
  timeval tv = ToTimeval(timeout);
  const amqp_rpc_reply_t reply = amqp_consume_message(impl_->conn, &envelope, &tv, 0);
  if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && reply.library_error == AMQP_STATUS_TIMEOUT) {
    return std::optional<AmqpDelivery>();
  }
  if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && reply.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
    amqp_frame_t frame;
    SLUICE_RETURN_IF_ERROR(impl_->CheckStatus(amqp_simple_wait_frame(impl_->conn, &frame), "reading a frame"));
    SLUICE_RETURN_IF_ERROR(impl_->HandleFrame(frame));
    return std::optional<AmqpDelivery>();
  }
  SLUICE_RETURN_IF_ERROR(impl_->Check(reply, "basic.consume delivery"));
  AmqpDelivery delivery;
  delivery.channel = envelope.channel;
  delivery.delivery_tag = envelope.delivery_tag;
  delivery.redelivered = envelope.redelivered != 0;
  delivery.exchange = ToStr(envelope.exchange);
  delivery.routing_key = ToStr(envelope.routing_key);
  delivery.body = ToStr(envelope.message.body);
  CopyProperties(envelope.message.properties, delivery);
  amqp_destroy_envelope(&envelope);
  return std::optional<AmqpDelivery>(std::move(delivery));
}

Result<std::optional<AmqpDelivery>> AmqpConnection::Get(std::uint16_t channel, std::string_view queue) {
  SLUICE_RETURN_IF_ERROR(impl_->Channel(channel));
  amqp_maybe_release_buffers(impl_->conn);
  const amqp_rpc_reply_t reply = amqp_basic_get(impl_->conn, channel, Bytes(queue), /*no_ack=*/0);
  SLUICE_RETURN_IF_ERROR(impl_->Check(reply, fmt::format("basic.get '{}'", queue)));
  if (reply.reply.id == AMQP_BASIC_GET_EMPTY_METHOD) return std::optional<AmqpDelivery>();
  const auto* ok = static_cast<const amqp_basic_get_ok_t*>(reply.reply.decoded);
  AmqpDelivery delivery;
  delivery.channel = channel;
  delivery.delivery_tag = ok->delivery_tag;
  delivery.redelivered = ok->redelivered != 0;
  delivery.exchange = ToStr(ok->exchange);
  delivery.routing_key = ToStr(ok->routing_key);
  amqp_message_t message;
  SLUICE_RETURN_IF_ERROR(impl_->Check(amqp_read_message(impl_->conn, channel, &message, 0), "basic.get body"));
  delivery.body = ToStr(message.body);
  CopyProperties(message.properties, delivery);
  amqp_destroy_message(&message);
  return std::optional<AmqpDelivery>(std::move(delivery));
}

Status AmqpConnection::Ack(std::uint16_t channel, std::uint64_t delivery_tag) {
  SLUICE_RETURN_IF_ERROR(impl_->Usable());
  return impl_->CheckStatus(amqp_basic_ack(impl_->conn, channel, delivery_tag, 0), "basic.ack");
}

Status AmqpConnection::Nack(std::uint16_t channel, std::uint64_t delivery_tag, bool requeue) {
  SLUICE_RETURN_IF_ERROR(impl_->Usable());
  return impl_->CheckStatus(amqp_basic_nack(impl_->conn, channel, delivery_tag, 0, requeue ? 1 : 0), "basic.nack");
}

Status AmqpConnection::CloseChannel(std::uint16_t channel) {
  SLUICE_RETURN_IF_ERROR(impl_->Usable());
  if (!impl_->open_channels.contains(channel)) return Ok();
  impl_->open_channels.erase(channel);
  impl_->confirms.erase(channel);
  return impl_->Check(amqp_channel_close(impl_->conn, channel, AMQP_REPLY_SUCCESS), "channel.close");
}

}  // namespace sluice
