// One PPP control protocol (LCP, IPCP or IPv6CP) as RFC 1661 section 5
// runs it: the packets of codes 1..7, driven by the RFC 1661 4 automaton
// (fsm.h), with the protocol's options decided by an OptionNegotiator.
//
//   OptionNegotiator  what to ask for and what to accept (lcp.h, ncp.h);
//                     pure option logic, no packets.
//   ControlProtocol   parses received packets into the automaton's events,
//                     performs its actions (sends Configure-Request/-Ack/
//                     -Nak/-Reject, Terminate-Request/-Ack, Code-Reject, runs
//                     the restart timer) and reports This-Layer-Up/-Down/
//                     -Started/-Finished to a LayerObserver.
//
// RFC 1661 leaves a few safeguards to the implementation; this one gives up
// (LayerObserver::LayerGaveUp, then an administrative Close) when:
//   - the peer's Configure-Request is still unacceptable after max_failure
//     Configure-Naks/-Rejects in a row (RFC 1661 4.6 Max-Failure);
//   - the peer Nak'd or rejected max_configure Configure-Requests in a row;
//   - the peer keeps acknowledging our request without ever sending its own
//     (max_configure restart timeouts in Ack-Rcvd);
//   - the negotiator finds the negotiation cannot succeed (fatal()).
//
// Not thread-safe. The negotiator, observer, sink and logger outlive it.
#ifndef SSTP_KTLS_DAEMON_PPP_CONTROL_PROTOCOL_H_
#define SSTP_KTLS_DAEMON_PPP_CONTROL_PROTOCOL_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/log.h"
#include "daemon/ppp/client_actions.h"
#include "daemon/ppp/fsm.h"
#include "daemon/ppp/packet.h"

namespace sstp::ppp {

// How the peer's Configure-Request is answered (RFC 1661 5.2-5.4).
struct RequestVerdict {
  // kConfigureAck (the request is echoed back unchanged), kConfigureNak or
  // kConfigureReject.
  Code code = Code::kConfigureAck;
  // Nak/Reject: the Options field to send.
  std::vector<uint8_t> options;
  // Nak/Reject: why, for logs and for the give-up message.
  std::string reason;
};

// The option logic of one control protocol. Every call gets the Options
// field of a packet whose Identifier already matched.
class OptionNegotiator {
 public:
  virtual ~OptionNegotiator() = default;

  // The Options field of our next Configure-Request.
  virtual absl::StatusOr<std::vector<uint8_t>> BuildRequest() = 0;
  // The peer acknowledged our last request (`options` is an exact copy of
  // it, RFC 1661 5.2): these values now hold.
  virtual void RequestAcked(absl::Span<const uint8_t> options) = 0;
  // RFC 1661 5.3 / 5.4: adjust the next request. An error (malformed
  // options) discards the packet.
  virtual absl::Status RequestNaked(absl::Span<const uint8_t> options) = 0;
  virtual absl::Status RequestRejected(absl::Span<const uint8_t> options) = 0;
  // Decides the answer to the peer's Configure-Request. On kConfigureAck
  // the negotiator records the peer's values (they hold once the Ack is
  // sent, which the caller does right away). An error (the option list does
  // not parse) discards the packet (RFC 1661 5: invalid packets are silently
  // discarded).
  virtual absl::StatusOr<RequestVerdict> EvaluateRequest(
      absl::Span<const uint8_t> options) = 0;

  // Not OK once the negotiation cannot succeed (e.g. the server rejected
  // IP-Address): the layer gives up with this status.
  const absl::Status& fatal() const { return fatal_; }

 protected:
  void SetFatal(absl::Status status) {
    if (fatal_.ok()) fatal_ = std::move(status);
  }

 private:
  absl::Status fatal_;
};

class ControlProtocol;

// RFC 1661 4.4 layer actions, called while the automaton is already in its
// new state. The observer must not feed events to the same ControlProtocol
// (Open, Close, Up, Down, Timeout, Receive*): the automaton is in the middle
// of an action list. It may read it, set_peer_mru(), SendTerminateRequestNow(),
// and drive other ControlProtocols.
class LayerObserver {
 public:
  virtual ~LayerObserver() = default;
  virtual void LayerUp(ControlProtocol& layer) = 0;    // tlu
  virtual void LayerDown(ControlProtocol& layer) = 0;  // tld
  // tlf. `why`: OK after an administrative Close() with an OK reason;
  // otherwise what ended the layer (no reply, rejected, terminated by the
  // peer).
  virtual void LayerFinished(ControlProtocol& layer,
                             const absl::Status& why) = 0;
  // The layer gave up (see the header comment); an administrative Close
  // follows, so LayerDown/LayerFinished may follow too.
  virtual void LayerGaveUp(ControlProtocol& layer,
                           const absl::Status& why) = 0;
};

struct ControlProtocolParams {
  uint16_t protocol = 0;  // kProtocolLcp, kProtocolIpcp, kProtocolIpv6cp
  std::string name;       // "LCP", for logs and messages
  TimerId timer = TimerId::kLcpRestart;
  FsmConfig fsm;
  int max_failure = 5;  // RFC 1661 4.6 Max-Failure
  // Codes above Code-Reject (7) that the protocol defines: 13 for LCP
  // (RFC 1661 5.7-5.9, RFC 1570 2.1-2.2), 7 for IPCP and IPv6CP (RFC 1332
  // 2, RFC 5072 3). Receive() hands packets of codes 8..max_code to the
  // caller; any other code is Code-Rejected (RUC).
  uint8_t max_code = 7;
};

class ControlProtocol {
 public:
  ControlProtocol(ControlProtocolParams params, OptionNegotiator& negotiator,
                  LayerObserver& observer, ActionSink& sink,
                  const Logger& logger);

  ControlProtocol(const ControlProtocol&) = delete;
  ControlProtocol& operator=(const ControlProtocol&) = delete;

  // RFC 1661 4.3 administrative and lower-layer events.
  void Open();
  // `text` goes in the Terminate-Request's Data; `finish_reason` (OK for an
  // orderly close) is what LayerFinished reports.
  void Close(absl::string_view text,
             absl::Status finish_reason = absl::OkStatus());
  void Up();
  void Down();
  // The restart timer (params.timer) expired: TO+ or TO-.
  void Timeout();

  // A packet of this protocol (the PPP Information field). Codes 1..7 are
  // handled here; a packet of a code in 8..max_code is returned for the
  // caller (LCP's Protocol-Reject, Echo, ...). Malformed packets are
  // dropped (logged).
  std::optional<ControlPacket> Receive(absl::Span<const uint8_t> information);

  // RXR: an Echo-Request, Echo-Reply or Discard-Request arrived (LCP).
  // True if the automaton says ser (only in Opened): the caller answers an
  // Echo-Request then.
  bool ReceiveEchoOrDiscard();
  // RXJ: the peer Code-Rejected or Protocol-Rejected something of ours.
  // `catastrophic` selects RXJ-; `why` is the tlf reason if it finishes the
  // layer.
  void ReceiveReject(bool catastrophic, const std::string& why);

  // Sends one Terminate-Request now, outside the automaton: for a link that
  // is being abandoned (LinkFailed), to tell the peer why.
  void SendTerminateRequestNow(absl::string_view reason);

  // The peer's MRU, to truncate Code-Rejects (RFC 1661 5.6). Default 1500.
  void set_peer_mru(size_t mru) { peer_mru_ = mru; }

  State state() const { return automaton_.state(); }
  bool opened() const { return state() == State::kOpened; }
  uint16_t protocol() const { return params_.protocol; }
  const std::string& name() const { return params_.name; }
  // A fresh Identifier for a packet of this protocol that is not a
  // Configure-Request (echo, Protocol-Reject).
  uint8_t NextIdentifier() { return next_id_++; }

 private:
  // What the received packet brings to the actions of one event.
  struct Context {
    uint8_t id = 0;                       // sca, scn, sta answer this id
    absl::Span<const uint8_t> options;    // sca echoes these
    const RequestVerdict* verdict = nullptr;  // scn
    absl::Span<const uint8_t> packet;     // scj rejects this packet
  };

  Outcome Handle(Event event);
  Outcome Handle(Event event, const Context& context);
  void Perform(Action action, Event event, const Context& context,
               const absl::Status& finish_reason);
  void SendConfigureRequest(bool retransmission);
  void Send(Code code, uint8_t id, absl::Span<const uint8_t> data);
  void GiveUp(absl::Status why);

  void OnConfigureRequest(const ControlPacket& packet);
  void OnConfigureAck(const ControlPacket& packet);
  void OnConfigureNakOrReject(const ControlPacket& packet);
  void OnCodeReject(const ControlPacket& packet);
  // True if `id` answers our last Configure-Request (RFC 1661 5.2-5.4).
  bool MatchesLastRequest(uint8_t id, absl::string_view what) const;

  ControlProtocolParams params_;
  OptionNegotiator& negotiator_;
  LayerObserver& observer_;
  ActionSink& sink_;
  const Logger& logger_;
  Automaton automaton_;

  uint8_t next_id_ = 1;
  struct SentRequest {
    uint8_t id = 0;
    std::vector<uint8_t> options;
    // A valid Configure-Ack/Nak/Reject came: later replies with this
    // Identifier (the server answering a retransmission too) are stale.
    bool answered = false;
  };
  std::optional<SentRequest> last_request_;
  size_t peer_mru_ = 1500;
  // Data of our Terminate-Requests and the reason the next tlf reports.
  std::string terminate_text_;
  absl::Status close_reason_;
  // Safeguards (header comment).
  int naks_sent_ = 0;
  int naks_received_ = 0;
  int ack_rcvd_timeouts_ = 0;
  bool gave_up_ = false;
};

}  // namespace sstp::ppp

#endif  // SSTP_KTLS_DAEMON_PPP_CONTROL_PROTOCOL_H_
