#include "daemon/ppp/fsm.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"

namespace sstp::ppp {
namespace {

// Short names so that each case below reads like the RFC 1661 4.1 cell it
// implements ("irc,scr/6").
constexpr Action tlu = Action::kThisLayerUp;
constexpr Action tld = Action::kThisLayerDown;
constexpr Action tls = Action::kThisLayerStarted;
constexpr Action tlf = Action::kThisLayerFinished;
constexpr Action irc_c = Action::kInitRestartCountConfigure;
constexpr Action irc_t = Action::kInitRestartCountTerminate;
constexpr Action zrc = Action::kZeroRestartCount;
constexpr Action scr = Action::kSendConfigureRequest;
constexpr Action sca = Action::kSendConfigureAck;
constexpr Action scn = Action::kSendConfigureNak;
constexpr Action str = Action::kSendTerminateRequest;
constexpr Action sta = Action::kSendTerminateAck;
constexpr Action scj = Action::kSendCodeReject;
constexpr Action ser = Action::kSendEchoReply;

using S = State;

Transition To(State next, ActionList actions = {}) {
  Transition t;
  t.next = next;
  t.actions = actions;
  return t;
}

// [x]: the transition is the table's; the flag only asks for a log line.
Transition Crossed(State next, ActionList actions) {
  Transition t = To(next, actions);
  t.crossed_connection = true;
  return t;
}

// "-": no state change, no action.
Transition Illegal(State state) {
  Transition t;
  t.next = state;
  t.illegal = true;
  return t;
}

// One function per table row (RFC 1661 4.1); each switch covers all ten
// columns so that -Werror=switch proves the table total.

Transition OnUp(State s) {
  switch (s) {
    case S::kInitial: return To(S::kClosed);                      // 2
    case S::kStarting: return To(S::kReqSent, {irc_c, scr});      // irc,scr/6
    case S::kClosed:
    case S::kStopped:
    case S::kClosing:
    case S::kStopping:
    case S::kReqSent:
    case S::kAckRcvd:
    case S::kAckSent:
    case S::kOpened: return Illegal(s);                           // -
  }
  return Illegal(s);
}

Transition OnDown(State s) {
  switch (s) {
    case S::kInitial:
    case S::kStarting: return Illegal(s);                         // -
    case S::kClosed: return To(S::kInitial);                      // 0
    case S::kStopped: return To(S::kStarting, {tls});             // tls/1
    case S::kClosing: return To(S::kInitial);                     // 0
    case S::kStopping:
    case S::kReqSent:
    case S::kAckRcvd:
    case S::kAckSent: return To(S::kStarting);                    // 1
    case S::kOpened: return To(S::kStarting, {tld});              // tld/1
  }
  return Illegal(s);
}

Transition OnOpen(State s) {
  switch (s) {
    case S::kInitial: return To(S::kStarting, {tls});             // tls/1
    case S::kStarting: return To(S::kStarting);                   // 1
    case S::kClosed: return To(S::kReqSent, {irc_c, scr});        // irc,scr/6
    case S::kStopped: return To(S::kStopped);                     // 3r
    case S::kClosing:                                             // 5r
    case S::kStopping: return To(S::kStopping);                   // 5r
    case S::kReqSent: return To(S::kReqSent);                     // 6
    case S::kAckRcvd: return To(S::kAckRcvd);                     // 7
    case S::kAckSent: return To(S::kAckSent);                     // 8
    case S::kOpened: return To(S::kOpened);                       // 9r
  }
  return Illegal(s);
}

Transition OnClose(State s) {
  switch (s) {
    case S::kInitial: return To(S::kInitial);                     // 0
    case S::kStarting: return To(S::kInitial, {tlf});             // tlf/0
    case S::kClosed:
    case S::kStopped: return To(S::kClosed);                      // 2
    case S::kClosing:
    case S::kStopping: return To(S::kClosing);                    // 4
    case S::kReqSent:
    case S::kAckRcvd:
    case S::kAckSent: return To(S::kClosing, {irc_t, str});       // irc,str/4
    case S::kOpened: return To(S::kClosing, {tld, irc_t, str});   // tld,irc,str/4
  }
  return Illegal(s);
}

Transition OnTimeoutPlus(State s) {
  switch (s) {
    case S::kInitial:
    case S::kStarting:
    case S::kClosed:
    case S::kStopped: return Illegal(s);                          // -
    case S::kClosing: return To(S::kClosing, {str});              // str/4
    case S::kStopping: return To(S::kStopping, {str});            // str/5
    case S::kReqSent:
    case S::kAckRcvd: return To(S::kReqSent, {scr});              // scr/6
    case S::kAckSent: return To(S::kAckSent, {scr});              // scr/8
    case S::kOpened: return Illegal(s);                           // -
  }
  return Illegal(s);
}

Transition OnTimeoutMinus(State s, bool passive) {
  switch (s) {
    case S::kInitial:
    case S::kStarting:
    case S::kClosed:
    case S::kStopped: return Illegal(s);                          // -
    case S::kClosing: return To(S::kClosed, {tlf});               // tlf/2
    case S::kStopping: return To(S::kStopped, {tlf});             // tlf/3
    case S::kReqSent:
    case S::kAckRcvd:
    case S::kAckSent:                                             // tlf/3p
      // [p]: a passive automaton waits in Stopped for the peer's
      // Configure-Request instead of finishing the layer.
      return passive ? To(S::kStopped) : To(S::kStopped, {tlf});
    case S::kOpened: return Illegal(s);                           // -
  }
  return Illegal(s);
}

Transition OnRcrPlus(State s) {
  switch (s) {
    case S::kInitial:
    case S::kStarting: return Illegal(s);                         // -
    case S::kClosed: return To(S::kClosed, {sta});                // sta/2
    case S::kStopped: return To(S::kAckSent, {irc_c, scr, sca});  // irc,scr,sca/8
    case S::kClosing: return To(S::kClosing);                     // 4
    case S::kStopping: return To(S::kStopping);                   // 5
    case S::kReqSent: return To(S::kAckSent, {sca});              // sca/8
    case S::kAckRcvd: return To(S::kOpened, {sca, tlu});          // sca,tlu/9
    case S::kAckSent: return To(S::kAckSent, {sca});              // sca/8
    case S::kOpened: return To(S::kAckSent, {tld, scr, sca});     // tld,scr,sca/8
  }
  return Illegal(s);
}

Transition OnRcrMinus(State s) {
  switch (s) {
    case S::kInitial:
    case S::kStarting: return Illegal(s);                         // -
    case S::kClosed: return To(S::kClosed, {sta});                // sta/2
    case S::kStopped: return To(S::kReqSent, {irc_c, scr, scn});  // irc,scr,scn/6
    case S::kClosing: return To(S::kClosing);                     // 4
    case S::kStopping: return To(S::kStopping);                   // 5
    case S::kReqSent: return To(S::kReqSent, {scn});              // scn/6
    case S::kAckRcvd: return To(S::kAckRcvd, {scn});              // scn/7
    case S::kAckSent: return To(S::kReqSent, {scn});              // scn/6
    case S::kOpened: return To(S::kReqSent, {tld, scr, scn});     // tld,scr,scn/6
  }
  return Illegal(s);
}

Transition OnRca(State s) {
  switch (s) {
    case S::kInitial:
    case S::kStarting: return Illegal(s);                         // -
    case S::kClosed: return To(S::kClosed, {sta});                // sta/2
    case S::kStopped: return To(S::kStopped, {sta});              // sta/3
    case S::kClosing: return To(S::kClosing);                     // 4
    case S::kStopping: return To(S::kStopping);                   // 5
    case S::kReqSent: return To(S::kAckRcvd, {irc_c});            // irc/7
    case S::kAckRcvd: return Crossed(S::kReqSent, {scr});         // scr/6x
    case S::kAckSent: return To(S::kOpened, {irc_c, tlu});        // irc,tlu/9
    case S::kOpened: return Crossed(S::kReqSent, {tld, scr});     // tld,scr/6x
  }
  return Illegal(s);
}

Transition OnRcn(State s) {
  switch (s) {
    case S::kInitial:
    case S::kStarting: return Illegal(s);                         // -
    case S::kClosed: return To(S::kClosed, {sta});                // sta/2
    case S::kStopped: return To(S::kStopped, {sta});              // sta/3
    case S::kClosing: return To(S::kClosing);                     // 4
    case S::kStopping: return To(S::kStopping);                   // 5
    case S::kReqSent: return To(S::kReqSent, {irc_c, scr});       // irc,scr/6
    case S::kAckRcvd: return Crossed(S::kReqSent, {scr});         // scr/6x
    case S::kAckSent: return To(S::kAckSent, {irc_c, scr});       // irc,scr/8
    case S::kOpened: return Crossed(S::kReqSent, {tld, scr});     // tld,scr/6x
  }
  return Illegal(s);
}

Transition OnRtr(State s) {
  switch (s) {
    case S::kInitial:
    case S::kStarting: return Illegal(s);                         // -
    case S::kClosed: return To(S::kClosed, {sta});                // sta/2
    case S::kStopped: return To(S::kStopped, {sta});              // sta/3
    case S::kClosing: return To(S::kClosing, {sta});              // sta/4
    case S::kStopping: return To(S::kStopping, {sta});            // sta/5
    case S::kReqSent:
    case S::kAckRcvd:
    case S::kAckSent: return To(S::kReqSent, {sta});              // sta/6
    // RFC 1661 4.4 zrc: Stopping with a zero counter waits one restart
    // period (so the peer sees the Terminate-Ack) and then TO- finishes.
    case S::kOpened: return To(S::kStopping, {tld, zrc, sta});    // tld,zrc,sta/5
  }
  return Illegal(s);
}

Transition OnRta(State s) {
  switch (s) {
    case S::kInitial:
    case S::kStarting: return Illegal(s);                         // -
    case S::kClosed: return To(S::kClosed);                       // 2
    case S::kStopped: return To(S::kStopped);                     // 3
    case S::kClosing: return To(S::kClosed, {tlf});               // tlf/2
    case S::kStopping: return To(S::kStopped, {tlf});             // tlf/3
    case S::kReqSent:
    case S::kAckRcvd: return To(S::kReqSent);                     // 6
    case S::kAckSent: return To(S::kAckSent);                     // 8
    case S::kOpened: return To(S::kReqSent, {tld, scr});          // tld,scr/6
  }
  return Illegal(s);
}

Transition OnRuc(State s) {
  switch (s) {
    case S::kInitial:
    case S::kStarting: return Illegal(s);                         // -
    case S::kClosed:                                              // scj/2
    case S::kStopped:                                             // scj/3
    case S::kClosing:                                             // scj/4
    case S::kStopping:                                            // scj/5
    case S::kReqSent:                                             // scj/6
    case S::kAckRcvd:                                             // scj/7
    case S::kAckSent:                                             // scj/8
    case S::kOpened: return To(s, {scj});                         // scj/9
  }
  return Illegal(s);
}

Transition OnRxjPlus(State s) {
  switch (s) {
    case S::kInitial:
    case S::kStarting: return Illegal(s);                         // -
    case S::kClosed:                                              // 2
    case S::kStopped:                                             // 3
    case S::kClosing:                                             // 4
    case S::kStopping:                                            // 5
    case S::kReqSent: return To(s);                               // 6
    case S::kAckRcvd: return To(S::kReqSent);                     // 6
    case S::kAckSent:                                             // 8
    case S::kOpened: return To(s);                                // 9
  }
  return Illegal(s);
}

Transition OnRxjMinus(State s) {
  switch (s) {
    case S::kInitial:
    case S::kStarting: return Illegal(s);                         // -
    case S::kClosed: return To(S::kClosed, {tlf});                // tlf/2
    case S::kStopped: return To(S::kStopped, {tlf});              // tlf/3
    case S::kClosing: return To(S::kClosed, {tlf});               // tlf/2
    case S::kStopping:
    case S::kReqSent:
    case S::kAckRcvd:
    case S::kAckSent: return To(S::kStopped, {tlf});              // tlf/3
    case S::kOpened: return To(S::kStopping, {tld, irc_t, str});  // tld,irc,str/5
  }
  return Illegal(s);
}

Transition OnRxr(State s) {
  switch (s) {
    case S::kInitial:
    case S::kStarting: return Illegal(s);                         // -
    case S::kClosed:                                              // 2
    case S::kStopped:                                             // 3
    case S::kClosing:                                             // 4
    case S::kStopping:                                            // 5
    case S::kReqSent:                                             // 6
    case S::kAckRcvd:                                             // 7
    case S::kAckSent: return To(s);                               // 8
    case S::kOpened: return To(S::kOpened, {ser});                // ser/9
  }
  return Illegal(s);
}

// [r]: the Open cell's own transition, then Down, then Up.
Transition RestartOnOpen(State s) {
  Transition open = OnOpen(s);
  Transition down = OnDown(open.next);
  Transition up = OnUp(down.next);
  Transition result;
  result.next = up.next;
  for (const Transition* part : {&open, &down, &up}) {
    for (Action a : part->actions) result.actions.push_back(a);
  }
  return result;
}

}  // namespace

absl::string_view StateName(State state) {
  switch (state) {
    case State::kInitial: return "Initial";
    case State::kStarting: return "Starting";
    case State::kClosed: return "Closed";
    case State::kStopped: return "Stopped";
    case State::kClosing: return "Closing";
    case State::kStopping: return "Stopping";
    case State::kReqSent: return "Req-Sent";
    case State::kAckRcvd: return "Ack-Rcvd";
    case State::kAckSent: return "Ack-Sent";
    case State::kOpened: return "Opened";
  }
  return "?";
}

absl::string_view EventName(Event event) {
  switch (event) {
    case Event::kUp: return "Up";
    case Event::kDown: return "Down";
    case Event::kOpen: return "Open";
    case Event::kClose: return "Close";
    case Event::kTimeoutPlus: return "TO+";
    case Event::kTimeoutMinus: return "TO-";
    case Event::kRcrPlus: return "RCR+";
    case Event::kRcrMinus: return "RCR-";
    case Event::kRca: return "RCA";
    case Event::kRcn: return "RCN";
    case Event::kRtr: return "RTR";
    case Event::kRta: return "RTA";
    case Event::kRuc: return "RUC";
    case Event::kRxjPlus: return "RXJ+";
    case Event::kRxjMinus: return "RXJ-";
    case Event::kRxr: return "RXR";
  }
  return "?";
}

absl::string_view ActionName(Action action) {
  switch (action) {
    case Action::kThisLayerUp: return "tlu";
    case Action::kThisLayerDown: return "tld";
    case Action::kThisLayerStarted: return "tls";
    case Action::kThisLayerFinished: return "tlf";
    case Action::kInitRestartCountConfigure: return "irc";
    case Action::kInitRestartCountTerminate: return "irc";
    case Action::kZeroRestartCount: return "zrc";
    case Action::kSendConfigureRequest: return "scr";
    case Action::kSendConfigureAck: return "sca";
    case Action::kSendConfigureNak: return "scn";
    case Action::kSendTerminateRequest: return "str";
    case Action::kSendTerminateAck: return "sta";
    case Action::kSendCodeReject: return "scj";
    case Action::kSendEchoReply: return "ser";
  }
  return "?";
}

absl::string_view TimerCommandName(TimerCommand command) {
  switch (command) {
    case TimerCommand::kLeave: return "leave";
    case TimerCommand::kStart: return "start";
    case TimerCommand::kStop: return "stop";
  }
  return "?";
}

bool ActionList::Contains(Action action) const {
  return std::find(begin(), end(), action) != end();
}

bool operator==(const ActionList& a, const ActionList& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

bool operator==(const Transition& a, const Transition& b) {
  return a.next == b.next && a.actions == b.actions &&
         a.illegal == b.illegal &&
         a.crossed_connection == b.crossed_connection;
}

Transition Step(State state, Event event, FsmOptions options) {
  switch (event) {
    case Event::kUp: return OnUp(state);
    case Event::kDown: return OnDown(state);
    case Event::kOpen:
      // [r] applies to the cells marked 3r, 5r and 9r.
      if (options.restart &&
          (state == State::kStopped || state == State::kClosing ||
           state == State::kStopping || state == State::kOpened)) {
        return RestartOnOpen(state);
      }
      return OnOpen(state);
    case Event::kClose: return OnClose(state);
    case Event::kTimeoutPlus: return OnTimeoutPlus(state);
    case Event::kTimeoutMinus: return OnTimeoutMinus(state, options.passive);
    case Event::kRcrPlus: return OnRcrPlus(state);
    case Event::kRcrMinus: return OnRcrMinus(state);
    case Event::kRca: return OnRca(state);
    case Event::kRcn: return OnRcn(state);
    case Event::kRtr: return OnRtr(state);
    case Event::kRta: return OnRta(state);
    case Event::kRuc: return OnRuc(state);
    case Event::kRxjPlus: return OnRxjPlus(state);
    case Event::kRxjMinus: return OnRxjMinus(state);
    case Event::kRxr: return OnRxr(state);
  }
  return Illegal(state);
}

bool RestartTimerRuns(State state) {
  switch (state) {
    case State::kClosing:
    case State::kStopping:
    case State::kReqSent:
    case State::kAckRcvd:
    case State::kAckSent: return true;
    case State::kInitial:
    case State::kStarting:
    case State::kClosed:
    case State::kStopped:
    case State::kOpened: return false;
  }
  return false;
}

std::string FormatTransition(State from, Event event,
                             const Transition& transition) {
  std::string out = absl::StrCat(StateName(from), " -", EventName(event), "-> ");
  if (transition.illegal) {
    absl::StrAppend(&out, "illegal");
    return out;
  }
  absl::StrAppend(&out, StateName(transition.next));
  if (!transition.actions.empty()) {
    absl::StrAppend(&out, " [");
    bool first = true;
    for (Action a : transition.actions) {
      absl::StrAppend(&out, first ? "" : ",", ActionName(a));
      first = false;
    }
    absl::StrAppend(&out, "]");
  }
  if (transition.crossed_connection) {
    absl::StrAppend(&out, " (crossed connection)");
  }
  return out;
}

Outcome Automaton::Handle(Event event) {
  Outcome outcome;
  outcome.from = state_;
  outcome.event = event;
  outcome.transition = Step(state_, event, config_.options);
  if (outcome.transition.illegal) return outcome;  // timer: kLeave

  bool timer_restarted = false;
  for (Action a : outcome.transition.actions) {
    switch (a) {
      case Action::kInitRestartCountConfigure:
        restart_count_ = config_.max_configure;
        break;
      case Action::kInitRestartCountTerminate:
        restart_count_ = config_.max_terminate;
        break;
      case Action::kZeroRestartCount:
        restart_count_ = 0;
        timer_restarted = true;
        break;
      case Action::kSendConfigureRequest:
      case Action::kSendTerminateRequest:
        // RFC 1661 4.4: "decremented for each transmission, including the
        // first". Clamped at zero (expired stays expired) in case a caller
        // feeds TO+ itself instead of asking TimeoutEvent().
        if (restart_count_ > 0) --restart_count_;
        timer_restarted = true;
        break;
      case Action::kThisLayerUp:
      case Action::kThisLayerDown:
      case Action::kThisLayerStarted:
      case Action::kThisLayerFinished:
      case Action::kSendConfigureAck:
      case Action::kSendConfigureNak:
      case Action::kSendTerminateAck:
      case Action::kSendCodeReject:
      case Action::kSendEchoReply:
        break;
    }
  }
  state_ = outcome.transition.next;
  if (!RestartTimerRuns(state_)) {
    outcome.timer = TimerCommand::kStop;
  } else if (timer_restarted) {
    outcome.timer = TimerCommand::kStart;
  } else {
    outcome.timer = TimerCommand::kLeave;
  }
  return outcome;
}

Event Automaton::TimeoutEvent() const {
  return restart_count_ > 0 ? Event::kTimeoutPlus : Event::kTimeoutMinus;
}

bool IsNegotiatingOrOpened(State state) {
  switch (state) {
    case State::kReqSent:
    case State::kAckRcvd:
    case State::kAckSent:
    case State::kOpened:
      return true;
    case State::kInitial:
    case State::kStarting:
    case State::kClosed:
    case State::kStopped:
    case State::kClosing:
    case State::kStopping:
      return false;
  }
  return false;
}

}  // namespace sstp::ppp
