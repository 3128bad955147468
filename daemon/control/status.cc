#include "daemon/control/status.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sstp::control {
namespace {

std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (c < 0x20) {
          absl::StrAppend(&out, "\\u00", c < 0x10 ? "0" : "", absl::Hex(c));
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out + "\"";
}

std::string JsonList(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const std::string& i : items) quoted.push_back(JsonString(i));
  return absl::StrCat("[", absl::StrJoin(quoted, ","), "]");
}

std::string JsonCounters(const std::vector<std::pair<std::string, uint64_t>>& counters) {
  std::vector<std::string> fields;
  for (const auto& [name, value] : counters) fields.push_back(absl::StrCat(JsonString(name), ":", value));
  return absl::StrCat("{", absl::StrJoin(fields, ","), "}");
}

std::string OrNone(const std::string& s) { return s.empty() ? "-" : s; }

}  // namespace

std::string FormatStatus(const StatusSnapshot& s) {
  std::string out;
  absl::StrAppend(&out, "profile:      ", s.profile, "\n");
  absl::StrAppend(&out, "state:        ", s.phase, "\n");
  absl::StrAppend(&out, "server:       ", OrNone(s.server), "\n");
  absl::StrAppend(&out, "tls:          ", OrNone(s.tls_version), " ", s.tls_cipher, "\n");
  if (s.record_layer_tx.empty() && s.record_layer_rx.empty()) {
    absl::StrAppend(&out, "record layer: -\n");
  } else if (s.record_layer_tx == s.record_layer_rx) {
    absl::StrAppend(&out, "record layer: ", OrNone(s.record_layer_tx), " both directions\n");
  } else {
    absl::StrAppend(&out, "record layer: send ", OrNone(s.record_layer_tx), ", receive ",
                    OrNone(s.record_layer_rx), "\n");
  }
  if (!s.user_space_reason.empty()) absl::StrAppend(&out, "  why:        ", s.user_space_reason, "\n");
  if (s.ktls_tx_records > 0 || s.ktls_rx_records > 0) {
    absl::StrAppend(&out, "kernel tls:   ", s.ktls_tx_records, " records sent, ", s.ktls_rx_records,
                    " received, ", s.ktls_rekeys, " rekeys\n");
  }
  if (!s.ktls_counters.empty()) {
    std::vector<std::string> parts;
    for (const auto& [name, value] : s.ktls_counters) parts.push_back(absl::StrCat(name, " ", value));
    absl::StrAppend(&out, "tls_stat:     ", absl::StrJoin(parts, ", "), "\n");
  }
  if (!s.nic_offload.empty()) absl::StrAppend(&out, "nic:          ", s.nic_offload, "\n");
  absl::StrAppend(&out, "auth:         ", OrNone(s.auth_method), "\n");
  absl::StrAppend(&out, "interface:    ", OrNone(s.interface), "\n");
  absl::StrAppend(&out, "addresses:    ", s.addresses.empty() ? "-" : absl::StrJoin(s.addresses, ", "), "\n");
  absl::StrAppend(&out, "dns offered:  ", s.dns.empty() ? "-" : absl::StrJoin(s.dns, ", "), "\n");
  absl::StrAppend(&out, "sent:         ", s.tx_packets, " packets, ", s.tx_bytes, " bytes\n");
  absl::StrAppend(&out, "received:     ", s.rx_packets, " packets, ", s.rx_bytes, " bytes\n");
  if (!s.tun_offload.empty()) {
    absl::StrAppend(&out, "tun offload:  ", s.tun_offload, "; super-packets: ", s.tx_super_packets,
                    " cut, ", s.rx_super_packets, " joined\n");
  }
  absl::StrAppend(&out, "uptime:       ", absl::FormatDuration(absl::Trunc(s.uptime, absl::Seconds(1))), "\n");
  absl::StrAppend(&out, "changes:      ", s.routes.empty() ? "-" : "", "\n");
  for (const std::string& r : s.routes) absl::StrAppend(&out, "  ", r, "\n");
  if (!s.last_error.empty()) absl::StrAppend(&out, "last error:   ", s.last_error, "\n");
  return out;
}

std::string FormatStatusJson(const StatusSnapshot& s) {
  return absl::StrCat(
      "{\"profile\":", JsonString(s.profile), ",\"state\":", JsonString(s.phase),
      ",\"server\":", JsonString(s.server), ",\"tls_version\":", JsonString(s.tls_version),
      ",\"tls_cipher\":", JsonString(s.tls_cipher), ",\"record_layer_tx\":", JsonString(s.record_layer_tx),
      ",\"record_layer_rx\":", JsonString(s.record_layer_rx),
      ",\"user_space_reason\":", JsonString(s.user_space_reason),
      ",\"ktls_tx_records\":", s.ktls_tx_records, ",\"ktls_rx_records\":", s.ktls_rx_records,
      ",\"ktls_rekeys\":", s.ktls_rekeys, ",\"tls_stat\":", JsonCounters(s.ktls_counters),
      ",\"nic_offload\":", JsonString(s.nic_offload),
      ",\"auth_method\":", JsonString(s.auth_method), ",\"interface\":", JsonString(s.interface),
      ",\"addresses\":", JsonList(s.addresses), ",\"changes\":", JsonList(s.routes),
      ",\"dns\":", JsonList(s.dns), ",\"tx_packets\":", s.tx_packets, ",\"tx_bytes\":", s.tx_bytes,
      ",\"rx_packets\":", s.rx_packets, ",\"rx_bytes\":", s.rx_bytes,
      ",\"tun_offload\":", JsonString(s.tun_offload), ",\"tx_super_packets\":", s.tx_super_packets,
      ",\"rx_super_packets\":", s.rx_super_packets,
      ",\"uptime_seconds\":", absl::ToInt64Seconds(s.uptime), ",\"last_error\":", JsonString(s.last_error),
      "}\n");
}

void StatusBoard::Publish(StatusSnapshot snapshot) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    snapshot_ = std::move(snapshot);
    ++generation_;
  }
  changed_.notify_all();
}

StatusSnapshot StatusBoard::Latest() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return snapshot_;
}

uint64_t StatusBoard::generation() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return generation_;
}

StatusSnapshot StatusBoard::WaitNewer(uint64_t generation, absl::Duration timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, std::chrono::milliseconds(absl::ToInt64Milliseconds(timeout)),
                    [&] { return generation_ > generation; });
  return snapshot_;
}

}  // namespace sstp::control
