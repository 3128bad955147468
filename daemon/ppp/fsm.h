// The RFC 1661 section 4 option-negotiation automaton, shared by LCP and the
// NCPs (IPCP, IPv6CP).
//
// Two layers, both pure and I/O-free:
//
//   Step(state, event)  the state transition table of RFC 1661 4.1, exactly,
//                       including its footnotes [p] (passive), [r] (restart)
//                       and [x] (crossed connection). Returns the next state
//                       and the actions in the RFC's order.
//   Automaton           a value type around Step that also keeps the Restart
//                       counter of RFC 4.6 (irc / zrc / decrement on every
//                       scr and str), tells the caller whether a timer expiry
//                       is TO+ or TO-, and whether its restart timer must be
//                       (re)started, stopped or left alone.
//
// Neither owns a clock, a timer or a socket: the caller (the LCP/NCP driver)
// performs the actions (sends packets, signals the layer above) and runs the
// restart timer. Not thread-safe; a value type, copy freely.
#ifndef SSTP_KTLS_DAEMON_PPP_FSM_H_
#define SSTP_KTLS_DAEMON_PPP_FSM_H_

#include <array>
#include <cstddef>
#include <initializer_list>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace sstp::ppp {

// RFC 1661 4.2. The numbering is the RFC's (0..9).
enum class State {
  kInitial = 0,
  kStarting = 1,
  kClosed = 2,
  kStopped = 3,
  kClosing = 4,
  kStopping = 5,
  kReqSent = 6,
  kAckRcvd = 7,
  kAckSent = 8,
  kOpened = 9,
};
inline constexpr int kNumStates = 10;

// RFC 1661 4.3, in the order of the table's rows.
enum class Event {
  kUp,            // Up: lower layer is Up
  kDown,          // Down: lower layer is Down
  kOpen,          // Open: administrative Open
  kClose,         // Close: administrative Close
  kTimeoutPlus,   // TO+: Timeout with counter > 0
  kTimeoutMinus,  // TO-: Timeout with counter expired
  kRcrPlus,       // RCR+: Receive-Configure-Request (Good)
  kRcrMinus,      // RCR-: Receive-Configure-Request (Bad)
  kRca,           // RCA: Receive-Configure-Ack
  kRcn,           // RCN: Receive-Configure-Nak/Rej
  kRtr,           // RTR: Receive-Terminate-Request
  kRta,           // RTA: Receive-Terminate-Ack
  kRuc,           // RUC: Receive-Unknown-Code
  kRxjPlus,       // RXJ+: Receive-Code-Reject (permitted) or -Protocol-Reject
  kRxjMinus,      // RXJ-: Receive-Code-Reject (catastrophic) or
                  //       -Protocol-Reject
  kRxr,           // RXR: Receive-Echo-Request, -Echo-Reply or
                  //      -Discard-Request
};
inline constexpr int kNumEvents = 16;

// RFC 1661 4.4.
enum class Action {
  kThisLayerUp,        // tlu
  kThisLayerDown,      // tld
  kThisLayerStarted,   // tls
  kThisLayerFinished,  // tlf
  // irc. RFC 4.4: "sets the Restart counter to the appropriate value
  // (Max-Terminate or Max-Configure)": Max-Configure when it precedes scr
  // (or stands for the Configure-Request exchange, as in Req-Sent's irc/7),
  // Max-Terminate when it precedes str. Step() resolves which.
  kInitRestartCountConfigure,
  kInitRestartCountTerminate,
  kZeroRestartCount,      // zrc
  kSendConfigureRequest,  // scr
  kSendConfigureAck,      // sca
  kSendConfigureNak,      // scn: Configure-Nak or Configure-Reject
  kSendTerminateRequest,  // str
  kSendTerminateAck,      // sta
  kSendCodeReject,        // scj
  // ser. RFC 1661 4.3 RXR: only an Echo-Request is answered; the caller
  // performs ser for an Echo-Request and drops Echo-Reply/Discard-Request.
  kSendEchoReply,
};

// The RFC's spellings, for logs: "Req-Sent", "RCR+", "scr". Both irc kinds
// are "irc".
absl::string_view StateName(State state);
absl::string_view EventName(Event event);
absl::string_view ActionName(Action action);

// The actions of one table cell, in the RFC's order. No cell has more than
// three (e.g. tld,irc,str); the restart option composes up to three too.
class ActionList {
 public:
  static constexpr size_t kCapacity = 4;

  constexpr ActionList() = default;
  constexpr ActionList(std::initializer_list<Action> actions) {
    for (Action a : actions) push_back(a);
  }

  // Precondition: size() < kCapacity (checked; aborts otherwise).
  constexpr void push_back(Action action) {
    if (size_ >= kCapacity) __builtin_trap();
    actions_[size_++] = action;
  }
  constexpr size_t size() const { return size_; }
  constexpr bool empty() const { return size_ == 0; }
  constexpr const Action* begin() const { return actions_.data(); }
  constexpr const Action* end() const { return actions_.data() + size_; }
  constexpr Action operator[](size_t i) const { return actions_[i]; }
  bool Contains(Action action) const;

  friend bool operator==(const ActionList& a, const ActionList& b);

 private:
  std::array<Action, kCapacity> actions_{};
  size_t size_ = 0;
};

// RFC 1661's implementation options that change the table.
struct FsmOptions {
  // [p] RFC 1661 4.2 Stopped: "After the peer fails to respond to
  // Configure-Requests, an implementation MAY wait passively for the peer to
  // send Configure-Requests. In this case, the This-Layer-Finished action is
  // not used for the TO- event in states Req-Sent, Ack-Rcvd and Ack-Sent."
  bool passive = false;
  // [r] RFC 1661 4.3 Open: an Open in the Opened, Closing, Stopping or
  // Stopped states issues a Down immediately followed by an Up, so that the
  // link renegotiates through Starting to Req-Sent. The cell's own transition
  // (e.g. Closing -> Stopping) happens first, then Down, then Up.
  bool restart = false;
};

struct Transition {
  State next = State::kInitial;
  ActionList actions;
  // The RFC's "-": the event cannot occur in this state. `next` is the
  // unchanged state and `actions` is empty; the caller logs it.
  bool illegal = false;
  // [x] RFC 1661 4.3 RCA: a Configure-Ack in Ack-Rcvd or Opened means a
  // crossed connection or a peer bug; the transition is taken as the table
  // says, and "this occurance SHOULD be logged". Set for RCA and RCN there.
  bool crossed_connection = false;

  friend bool operator==(const Transition& a, const Transition& b);
};

// The RFC 1661 4.1 state transition table. Total over State x Event.
Transition Step(State state, Event event, FsmOptions options = {});

// RFC 1661 4.2/4.6: the Restart timer runs in Closing, Stopping, Req-Sent,
// Ack-Rcvd and Ack-Sent, and in no other state.
bool RestartTimerRuns(State state);

// Req-Sent, Ack-Rcvd, Ack-Sent and Opened: the automaton is negotiating or
// open, so the peer is exchanging packets with it (RFC 1661 4.2). In every
// other state the link is starting, closed or terminating.
bool IsNegotiatingOrOpened(State state);

// "Req-Sent -RCR+-> Ack-Sent [sca]", "Initial -RCA-> illegal", for logs.
std::string FormatTransition(State from, Event event,
                             const Transition& transition);

// RFC 1661 4.6 counters and timer, with the RFC's defaults.
struct FsmConfig {
  int max_configure = 10;  // Configure-Requests sent before TO-.
  int max_terminate = 2;   // Terminate-Requests sent before TO-.
  // The caller's restart timer period; the automaton only carries it.
  absl::Duration restart_timer = absl::Seconds(3);
  FsmOptions options;
};

// What the caller does with its restart timer after an event.
enum class TimerCommand {
  kLeave,  // keep it as it is (running or not)
  kStart,  // (re)start it with FsmConfig::restart_timer
  kStop,   // stop it if it runs
};

absl::string_view TimerCommandName(TimerCommand command);

struct Outcome {
  State from = State::kInitial;
  Event event = Event::kUp;
  Transition transition;
  TimerCommand timer = TimerCommand::kLeave;

  const ActionList& actions() const { return transition.actions; }
  State next() const { return transition.next; }
  bool illegal() const { return transition.illegal; }
};

// Step() plus the Restart counter. Starts in Initial with a zero counter.
class Automaton {
 public:
  explicit Automaton(FsmConfig config = {}) : config_(config) {}

  // Applies Step(state(), event): moves to the next state and applies the
  // counter actions in order (irc sets the counter to Max-Configure or
  // Max-Terminate, zrc zeroes it, every scr and str decrements it, RFC 4.4:
  // "decremented for each transmission, including the first"; it never goes
  // below zero). The caller then performs the returned actions in order.
  //
  // The timer command: kStop when the restart timer does not run in the new
  // state; kStart when the actions send scr or str (RFC 4.4: "The Restart
  // timer is started when the ... packet is transmitted") or zrc (RFC 4.4:
  // the implementation "MUST set the timeout period"); kLeave otherwise,
  // including for illegal events.
  Outcome Handle(Event event);

  // Which event the caller's restart timer expiry is: TO+ while the counter
  // is > 0, TO- once it has expired (RFC 1661 4.3).
  Event TimeoutEvent() const;
  // Handle(TimeoutEvent()).
  Outcome HandleTimeout() { return Handle(TimeoutEvent()); }

  State state() const { return state_; }
  int restart_count() const { return restart_count_; }
  bool restart_timer_running() const { return RestartTimerRuns(state_); }
  const FsmConfig& config() const { return config_; }

 private:
  FsmConfig config_;
  State state_ = State::kInitial;
  int restart_count_ = 0;
};

}  // namespace sstp::ppp

#endif  // SSTP_KTLS_DAEMON_PPP_FSM_H_
