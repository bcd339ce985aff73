#include "conformance/runner.hpp"

#include <map>
#include <memory>
#include <ostream>

#include "conformance/connection.hpp"
#include "conformance/display.hpp"
#include "conformance/match.hpp"
#include "protocol/utf8.hpp"

namespace chat::conformance {

namespace {

using clock = connection::clock;
using received = connection::received;
using outcome = std::optional<std::string>;  // nothing: the step passed; else why not

std::string milliseconds(std::chrono::milliseconds ms) {
  return std::to_string(ms.count()) + " ms";
}

// Long lines (the oversized ones, say) are shown by their start and size.
std::string abbreviated(std::string_view bytes, std::string (*show)(std::string_view) = display,
                        std::size_t shown = 96) {
  if (bytes.size() <= shown) return show(bytes);
  // Cut before a UTF-8 continuation byte, not in the middle of a character.
  while (shown > 0 && (static_cast<unsigned char>(bytes[shown]) & 0xC0) == 0x80) --shown;
  return show(bytes.substr(0, shown)) + "… (" + std::to_string(bytes.size()) + " bytes)";
}

// What was sent: one printable line as it reads, anything else byte by byte.
std::string sent(std::string_view bytes) {
  if (bytes.ends_with('\n')) {
    const std::string_view line = bytes.substr(0, bytes.size() - 1);
    if (display(line) == line) return abbreviated(line);
  }
  return abbreviated(bytes, escaped);
}

// What arrived when something else was expected.
std::string describe(const received& r, std::chrono::milliseconds waited) {
  switch (r.what) {
    case received::kind::frame: return "got: " + abbreviated(r.text, display, 2000);
    case received::kind::closed:
      if (!r.text.empty()) {
        return "the server closed the connection in the middle of a line: " + display(r.text);
      }
      return r.error == boost::asio::error::connection_reset ? "the server reset the connection"
                                                             : "the server closed the connection";
    case received::kind::timed_out: return "nothing arrived within " + milliseconds(waited);
    case received::kind::failed:
      if (r.error == boost::asio::error::message_size) {
        return "the server sent a line longer than " + std::to_string(connection::max_frame) +
               " bytes";
      }
      return "the connection failed: " + r.error.message();
  }
  return "unknown event";
}

class runner {
public:
  runner(const std::string& host, std::uint16_t port, const run_options& options)
      : host_(host),
        port_(port),
        timeout_(options.timeout),
        quiet_(options.quiet),
        trace_(options.trace) {}

  runner(const runner&) = delete;
  runner& operator=(const runner&) = delete;

  ~runner() {
    const auto deadline = clock::now() + timeout_;
    for (auto& [client, conn] : connections_) conn->finish(deadline);
  }

  outcome perform(const step& s) {
    return std::visit([&](const auto& what) { return apply(s.client, what); }, s.what);
  }

private:
  outcome apply(const std::string& client, const action::connect&) {
    auto conn = std::make_unique<connection>();
    if (const auto error = conn->connect(host_, port_, deadline())) {
      return "cannot connect to " + host_ + ":" + std::to_string(port_) + ": " + error.message();
    }
    trace(client, "connected");
    connections_.emplace(client, std::move(conn));
    return std::nullopt;
  }

  outcome apply(const std::string& client, const action::disconnect&) {
    connections_.at(client)->close();
    connections_.erase(client);
    trace(client, "disconnected");
    return std::nullopt;
  }

  outcome apply(const std::string& client, const action::send& send) {
    const std::string bytes = fill_captures(send.bytes, captures_);
    trace(client, "-> " + sent(bytes));
    if (const auto error = connections_.at(client)->send(bytes, deadline())) {
      return "cannot send: " + error.message();
    }
    return std::nullopt;
  }

  outcome apply(const std::string& client, const action::receive_frame& receive) {
    const received r = next(client, timeout_);
    if (r.what != received::kind::frame) return describe(r, timeout_);
    if (!protocol::is_valid_utf8(r.text)) return describe(r, timeout_) + "\nit is not valid UTF-8";
    // JSON parsing would accept the CR as whitespace, so look for it here.
    if (r.text.ends_with('\r')) return describe(r, timeout_) + "\nframes end in LF alone, not CRLF";
    if (auto why = match_frame(receive.expected, r.text, captures_)) {
      return describe(r, timeout_) + "\n" + *why;
    }
    return std::nullopt;
  }

  outcome apply(const std::string& client, const action::receive_nothing&) {
    const received r = next(client, quiet_);
    if (r.what == received::kind::timed_out) return std::nullopt;
    return describe(r, quiet_);
  }

  outcome apply(const std::string& client, const action::receive_closed&) {
    const received r = next(client, timeout_);
    if (r.what == received::kind::closed && r.text.empty()) {
      connections_.erase(client);
      return std::nullopt;
    }
    if (r.what == received::kind::timed_out) {
      return "the connection is still open after " + milliseconds(timeout_);
    }
    return describe(r, timeout_);
  }

  outcome apply(const std::string&, const action::check& check) {
    return evaluate_check(check, captures_);
  }

  outcome apply(const std::string&, const action::set_timeout& set) {
    timeout_ = set.value;
    return std::nullopt;
  }

  outcome apply(const std::string&, const action::set_quiet& set) {
    quiet_ = set.value;
    return std::nullopt;
  }

  received next(const std::string& client, std::chrono::milliseconds wait) {
    received r = connections_.at(client)->receive(clock::now() + wait);
    switch (r.what) {
      case received::kind::frame: trace(client, "<- " + abbreviated(r.text)); break;
      case received::kind::closed: trace(client, "<- (" + describe(r, wait) + ")"); break;
      case received::kind::failed: trace(client, "<- (" + describe(r, wait) + ")"); break;
      case received::kind::timed_out: break;
    }
    return r;
  }

  void trace(const std::string& client, const std::string& event) {
    if (trace_ != nullptr) *trace_ << "  " << client << ' ' << event << '\n';
  }

  clock::time_point deadline() const { return clock::now() + timeout_; }

  std::string host_;
  std::uint16_t port_;
  // Start from run_options; `set` steps change them for the rest of the run.
  std::chrono::milliseconds timeout_;
  std::chrono::milliseconds quiet_;
  std::ostream* trace_;
  // The open connections, by the names the transcript gives them.
  std::map<std::string, std::unique_ptr<connection>> connections_;
  // Shared by every connection: a value bob captured can be checked against alice's.
  capture_table captures_;
};

}  // namespace

std::string format_failure(const std::string& transcript_name, const failure& f) {
  std::string out = transcript_name + ":" + std::to_string(f.line) + ": " + f.step;
  std::string_view detail = f.detail;
  while (!detail.empty()) {
    const auto lf = detail.find('\n');
    out.append("\n    ").append(detail.substr(0, lf));
    detail = lf == std::string_view::npos ? std::string_view{} : detail.substr(lf + 1);
  }
  return out;
}

std::optional<failure> run_transcript(const transcript& script, const std::string& host,
                                      std::uint16_t port, const run_options& options) {
  runner r(host, port, options);
  for (const step& s : script.steps) {
    if (auto why = r.perform(s)) return failure{s.line, s.source, std::move(*why)};
  }
  return std::nullopt;
}

}  // namespace chat::conformance
