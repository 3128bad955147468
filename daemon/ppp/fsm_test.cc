#include "daemon/ppp/fsm.h"

#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::ppp {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

using enum State;
using enum Event;

// The RFC's action abbreviations (RFC 1661 4.4). irc is spelled out by which
// counter it loads: ircC before scr (Max-Configure), ircT before str
// (Max-Terminate).
constexpr Action tlu = Action::kThisLayerUp;
constexpr Action tld = Action::kThisLayerDown;
constexpr Action tls = Action::kThisLayerStarted;
constexpr Action tlf = Action::kThisLayerFinished;
constexpr Action ircC = Action::kInitRestartCountConfigure;
constexpr Action ircT = Action::kInitRestartCountTerminate;
constexpr Action zrc = Action::kZeroRestartCount;
constexpr Action scr = Action::kSendConfigureRequest;
constexpr Action sca = Action::kSendConfigureAck;
constexpr Action scn = Action::kSendConfigureNak;
constexpr Action str = Action::kSendTerminateRequest;
constexpr Action sta = Action::kSendTerminateAck;
constexpr Action scj = Action::kSendCodeReject;
constexpr Action ser = Action::kSendEchoReply;

std::vector<Action> ToVector(const ActionList& list) {
  return std::vector<Action>(list.begin(), list.end());
}

std::string Names(const ActionList& list) {
  std::vector<std::string> names;
  for (Action a : list) names.emplace_back(ActionName(a));
  return absl::StrJoin(names, ",");
}

// One cell of the RFC 1661 4.1 table, written as data independently of
// fsm.cc. `crossed` is the table's [x].
struct Cell {
  State state;
  Event event;
  std::vector<Action> actions;
  State next;
  bool crossed = false;
  bool illegal = false;
};
constexpr bool kX = true;

// The RFC's "-".
Cell Dash(State state, Event event) {
  return Cell{state, event, {}, state, false, true};
}

void PrintTo(const Cell& cell, std::ostream* os) {
  *os << StateName(cell.state) << " x " << EventName(cell.event);
}

// RFC 1661 4.1, transcribed row by row; each comment is the RFC's cell text.
// Default options: no [p] passive, no [r] restart (tested separately).
const std::vector<Cell>& Table() {
  static const auto* const table = new std::vector<Cell>{
      // Up
      {kInitial, kUp, {}, kClosed},                 // 2
      {kStarting, kUp, {ircC, scr}, kReqSent},      // irc,scr/6
      Dash(kClosed, kUp),                           // -
      Dash(kStopped, kUp),                          // -
      Dash(kClosing, kUp),                          // -
      Dash(kStopping, kUp),                         // -
      Dash(kReqSent, kUp),                          // -
      Dash(kAckRcvd, kUp),                          // -
      Dash(kAckSent, kUp),                          // -
      Dash(kOpened, kUp),                           // -
      // Down
      Dash(kInitial, kDown),                        // -
      Dash(kStarting, kDown),                       // -
      {kClosed, kDown, {}, kInitial},               // 0
      {kStopped, kDown, {tls}, kStarting},          // tls/1
      {kClosing, kDown, {}, kInitial},              // 0
      {kStopping, kDown, {}, kStarting},            // 1
      {kReqSent, kDown, {}, kStarting},             // 1
      {kAckRcvd, kDown, {}, kStarting},             // 1
      {kAckSent, kDown, {}, kStarting},             // 1
      {kOpened, kDown, {tld}, kStarting},           // tld/1
      // Open
      {kInitial, kOpen, {tls}, kStarting},          // tls/1
      {kStarting, kOpen, {}, kStarting},            // 1
      {kClosed, kOpen, {ircC, scr}, kReqSent},      // irc,scr/6
      {kStopped, kOpen, {}, kStopped},              // 3r
      {kClosing, kOpen, {}, kStopping},             // 5r
      {kStopping, kOpen, {}, kStopping},            // 5r
      {kReqSent, kOpen, {}, kReqSent},              // 6
      {kAckRcvd, kOpen, {}, kAckRcvd},              // 7
      {kAckSent, kOpen, {}, kAckSent},              // 8
      {kOpened, kOpen, {}, kOpened},                // 9r
      // Close
      {kInitial, kClose, {}, kInitial},             // 0
      {kStarting, kClose, {tlf}, kInitial},         // tlf/0
      {kClosed, kClose, {}, kClosed},               // 2
      {kStopped, kClose, {}, kClosed},              // 2
      {kClosing, kClose, {}, kClosing},             // 4
      {kStopping, kClose, {}, kClosing},            // 4
      {kReqSent, kClose, {ircT, str}, kClosing},    // irc,str/4
      {kAckRcvd, kClose, {ircT, str}, kClosing},    // irc,str/4
      {kAckSent, kClose, {ircT, str}, kClosing},    // irc,str/4
      {kOpened, kClose, {tld, ircT, str}, kClosing},  // tld,irc,str/4
      // TO+
      Dash(kInitial, kTimeoutPlus),                 // -
      Dash(kStarting, kTimeoutPlus),                // -
      Dash(kClosed, kTimeoutPlus),                  // -
      Dash(kStopped, kTimeoutPlus),                 // -
      {kClosing, kTimeoutPlus, {str}, kClosing},    // str/4
      {kStopping, kTimeoutPlus, {str}, kStopping},  // str/5
      {kReqSent, kTimeoutPlus, {scr}, kReqSent},    // scr/6
      {kAckRcvd, kTimeoutPlus, {scr}, kReqSent},    // scr/6
      {kAckSent, kTimeoutPlus, {scr}, kAckSent},    // scr/8
      Dash(kOpened, kTimeoutPlus),                  // -
      // TO-
      Dash(kInitial, kTimeoutMinus),                // -
      Dash(kStarting, kTimeoutMinus),               // -
      Dash(kClosed, kTimeoutMinus),                 // -
      Dash(kStopped, kTimeoutMinus),                // -
      {kClosing, kTimeoutMinus, {tlf}, kClosed},    // tlf/2
      {kStopping, kTimeoutMinus, {tlf}, kStopped},  // tlf/3
      {kReqSent, kTimeoutMinus, {tlf}, kStopped},   // tlf/3p
      {kAckRcvd, kTimeoutMinus, {tlf}, kStopped},   // tlf/3p
      {kAckSent, kTimeoutMinus, {tlf}, kStopped},   // tlf/3p
      Dash(kOpened, kTimeoutMinus),                 // -
      // RCR+
      Dash(kInitial, kRcrPlus),                     // -
      Dash(kStarting, kRcrPlus),                    // -
      {kClosed, kRcrPlus, {sta}, kClosed},          // sta/2
      {kStopped, kRcrPlus, {ircC, scr, sca}, kAckSent},  // irc,scr,sca/8
      {kClosing, kRcrPlus, {}, kClosing},           // 4
      {kStopping, kRcrPlus, {}, kStopping},         // 5
      {kReqSent, kRcrPlus, {sca}, kAckSent},        // sca/8
      {kAckRcvd, kRcrPlus, {sca, tlu}, kOpened},    // sca,tlu/9
      {kAckSent, kRcrPlus, {sca}, kAckSent},        // sca/8
      {kOpened, kRcrPlus, {tld, scr, sca}, kAckSent},  // tld,scr,sca/8
      // RCR-
      Dash(kInitial, kRcrMinus),                    // -
      Dash(kStarting, kRcrMinus),                   // -
      {kClosed, kRcrMinus, {sta}, kClosed},         // sta/2
      {kStopped, kRcrMinus, {ircC, scr, scn}, kReqSent},  // irc,scr,scn/6
      {kClosing, kRcrMinus, {}, kClosing},          // 4
      {kStopping, kRcrMinus, {}, kStopping},        // 5
      {kReqSent, kRcrMinus, {scn}, kReqSent},       // scn/6
      {kAckRcvd, kRcrMinus, {scn}, kAckRcvd},       // scn/7
      {kAckSent, kRcrMinus, {scn}, kReqSent},       // scn/6
      {kOpened, kRcrMinus, {tld, scr, scn}, kReqSent},  // tld,scr,scn/6
      // RCA
      Dash(kInitial, kRca),                         // -
      Dash(kStarting, kRca),                        // -
      {kClosed, kRca, {sta}, kClosed},              // sta/2
      {kStopped, kRca, {sta}, kStopped},            // sta/3
      {kClosing, kRca, {}, kClosing},               // 4
      {kStopping, kRca, {}, kStopping},             // 5
      {kReqSent, kRca, {ircC}, kAckRcvd},           // irc/7
      {kAckRcvd, kRca, {scr}, kReqSent, kX},        // scr/6x
      {kAckSent, kRca, {ircC, tlu}, kOpened},       // irc,tlu/9
      {kOpened, kRca, {tld, scr}, kReqSent, kX},    // tld,scr/6x
      // RCN
      Dash(kInitial, kRcn),                         // -
      Dash(kStarting, kRcn),                        // -
      {kClosed, kRcn, {sta}, kClosed},              // sta/2
      {kStopped, kRcn, {sta}, kStopped},            // sta/3
      {kClosing, kRcn, {}, kClosing},               // 4
      {kStopping, kRcn, {}, kStopping},             // 5
      {kReqSent, kRcn, {ircC, scr}, kReqSent},      // irc,scr/6
      {kAckRcvd, kRcn, {scr}, kReqSent, kX},        // scr/6x
      {kAckSent, kRcn, {ircC, scr}, kAckSent},      // irc,scr/8
      {kOpened, kRcn, {tld, scr}, kReqSent, kX},    // tld,scr/6x
      // RTR
      Dash(kInitial, kRtr),                         // -
      Dash(kStarting, kRtr),                        // -
      {kClosed, kRtr, {sta}, kClosed},              // sta/2
      {kStopped, kRtr, {sta}, kStopped},            // sta/3
      {kClosing, kRtr, {sta}, kClosing},            // sta/4
      {kStopping, kRtr, {sta}, kStopping},          // sta/5
      {kReqSent, kRtr, {sta}, kReqSent},            // sta/6
      {kAckRcvd, kRtr, {sta}, kReqSent},            // sta/6
      {kAckSent, kRtr, {sta}, kReqSent},            // sta/6
      {kOpened, kRtr, {tld, zrc, sta}, kStopping},  // tld,zrc,sta/5
      // RTA
      Dash(kInitial, kRta),                         // -
      Dash(kStarting, kRta),                        // -
      {kClosed, kRta, {}, kClosed},                 // 2
      {kStopped, kRta, {}, kStopped},               // 3
      {kClosing, kRta, {tlf}, kClosed},             // tlf/2
      {kStopping, kRta, {tlf}, kStopped},           // tlf/3
      {kReqSent, kRta, {}, kReqSent},               // 6
      {kAckRcvd, kRta, {}, kReqSent},               // 6
      {kAckSent, kRta, {}, kAckSent},               // 8
      {kOpened, kRta, {tld, scr}, kReqSent},        // tld,scr/6
      // RUC
      Dash(kInitial, kRuc),                         // -
      Dash(kStarting, kRuc),                        // -
      {kClosed, kRuc, {scj}, kClosed},              // scj/2
      {kStopped, kRuc, {scj}, kStopped},            // scj/3
      {kClosing, kRuc, {scj}, kClosing},            // scj/4
      {kStopping, kRuc, {scj}, kStopping},          // scj/5
      {kReqSent, kRuc, {scj}, kReqSent},            // scj/6
      {kAckRcvd, kRuc, {scj}, kAckRcvd},            // scj/7
      {kAckSent, kRuc, {scj}, kAckSent},            // scj/8
      {kOpened, kRuc, {scj}, kOpened},              // scj/9
      // RXJ+
      Dash(kInitial, kRxjPlus),                     // -
      Dash(kStarting, kRxjPlus),                    // -
      {kClosed, kRxjPlus, {}, kClosed},             // 2
      {kStopped, kRxjPlus, {}, kStopped},           // 3
      {kClosing, kRxjPlus, {}, kClosing},           // 4
      {kStopping, kRxjPlus, {}, kStopping},         // 5
      {kReqSent, kRxjPlus, {}, kReqSent},           // 6
      {kAckRcvd, kRxjPlus, {}, kReqSent},           // 6
      {kAckSent, kRxjPlus, {}, kAckSent},           // 8
      {kOpened, kRxjPlus, {}, kOpened},             // 9
      // RXJ-
      Dash(kInitial, kRxjMinus),                    // -
      Dash(kStarting, kRxjMinus),                   // -
      {kClosed, kRxjMinus, {tlf}, kClosed},         // tlf/2
      {kStopped, kRxjMinus, {tlf}, kStopped},       // tlf/3
      {kClosing, kRxjMinus, {tlf}, kClosed},        // tlf/2
      {kStopping, kRxjMinus, {tlf}, kStopped},      // tlf/3
      {kReqSent, kRxjMinus, {tlf}, kStopped},       // tlf/3
      {kAckRcvd, kRxjMinus, {tlf}, kStopped},       // tlf/3
      {kAckSent, kRxjMinus, {tlf}, kStopped},       // tlf/3
      {kOpened, kRxjMinus, {tld, ircT, str}, kStopping},  // tld,irc,str/5
      // RXR
      Dash(kInitial, kRxr),                         // -
      Dash(kStarting, kRxr),                        // -
      {kClosed, kRxr, {}, kClosed},                 // 2
      {kStopped, kRxr, {}, kStopped},               // 3
      {kClosing, kRxr, {}, kClosing},               // 4
      {kStopping, kRxr, {}, kStopping},             // 5
      {kReqSent, kRxr, {}, kReqSent},               // 6
      {kAckRcvd, kRxr, {}, kAckRcvd},               // 7
      {kAckSent, kRxr, {}, kAckSent},               // 8
      {kOpened, kRxr, {ser}, kOpened},              // ser/9
  };
  return *table;
}

// "ReqSent_RCRplus": the RFC's names without punctuation.
std::string CellName(const testing::TestParamInfo<Cell>& info) {
  std::string name;
  for (char c : StateName(info.param.state)) {
    if (c != '-') name.push_back(c);
  }
  name.push_back('_');
  for (char c : EventName(info.param.event)) {
    if (c == '+') {
      name += "plus";
    } else if (c == '-') {
      name += "minus";
    } else {
      name.push_back(c);
    }
  }
  return name;
}

class Rfc1661TableTest : public testing::TestWithParam<Cell> {};

TEST_P(Rfc1661TableTest, MatchesRfc) {
  const Cell& cell = GetParam();
  const Transition t = Step(cell.state, cell.event);
  SCOPED_TRACE(FormatTransition(cell.state, cell.event, t));
  EXPECT_EQ(t.illegal, cell.illegal);
  EXPECT_EQ(t.next, cell.next) << StateName(t.next) << " vs "
                               << StateName(cell.next);
  EXPECT_EQ(ToVector(t.actions), cell.actions) << Names(t.actions);
  EXPECT_EQ(t.crossed_connection, cell.crossed);
}

INSTANTIATE_TEST_SUITE_P(EveryCell, Rfc1661TableTest,
                         testing::ValuesIn(Table()), CellName);

TEST(Rfc1661TableDataTest, CoversEveryStateEventPairOnce) {
  std::set<std::pair<State, Event>> seen;
  for (const Cell& cell : Table()) {
    EXPECT_TRUE(seen.insert({cell.state, cell.event}).second)
        << StateName(cell.state) << " x " << EventName(cell.event);
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kNumStates * kNumEvents));
}

// The options must not change any cell they are not attached to.
TEST(FsmOptionsTest, OptionsOnlyChangeTheirMarkedCells) {
  for (const Cell& cell : Table()) {
    const bool p_cell = cell.event == kTimeoutMinus &&
                        (cell.state == kReqSent || cell.state == kAckRcvd ||
                         cell.state == kAckSent);
    const bool r_cell = cell.event == kOpen &&
                        (cell.state == kStopped || cell.state == kClosing ||
                         cell.state == kStopping || cell.state == kOpened);
    if (!p_cell) {
      EXPECT_EQ(Step(cell.state, cell.event, {.passive = true}),
                Step(cell.state, cell.event))
          << StateName(cell.state) << " x " << EventName(cell.event);
    }
    if (!r_cell) {
      EXPECT_EQ(Step(cell.state, cell.event, {.restart = true}),
                Step(cell.state, cell.event))
          << StateName(cell.state) << " x " << EventName(cell.event);
    }
  }
}

// [p] RFC 1661 4.2 Stopped: with the passive option, TO- in Req-Sent,
// Ack-Rcvd and Ack-Sent goes to Stopped without This-Layer-Finished.
TEST(FsmOptionsTest, PassiveTimeoutMinusSkipsTlf) {
  for (State s : {kReqSent, kAckRcvd, kAckSent}) {
    const Transition t = Step(s, kTimeoutMinus, {.passive = true});
    EXPECT_FALSE(t.illegal);
    EXPECT_EQ(t.next, kStopped) << StateName(s);
    EXPECT_THAT(ToVector(t.actions), IsEmpty()) << StateName(s);
  }
}

// [r] RFC 1661 4.3 Open: the cell's transition, then Down, then Up, which
// renegotiates through Starting to Req-Sent.
TEST(FsmOptionsTest, RestartOpenIsDownThenUp) {
  const FsmOptions restart{.restart = true};
  Transition t = Step(kStopped, kOpen, restart);  // 3, then tls/1, irc,scr/6
  EXPECT_EQ(t.next, kReqSent);
  EXPECT_THAT(ToVector(t.actions), ElementsAre(tls, ircC, scr));
  t = Step(kClosing, kOpen, restart);  // 5, then 1, then irc,scr/6
  EXPECT_EQ(t.next, kReqSent);
  EXPECT_THAT(ToVector(t.actions), ElementsAre(ircC, scr));
  t = Step(kStopping, kOpen, restart);  // 5, then 1, then irc,scr/6
  EXPECT_EQ(t.next, kReqSent);
  EXPECT_THAT(ToVector(t.actions), ElementsAre(ircC, scr));
  t = Step(kOpened, kOpen, restart);  // 9, then tld/1, then irc,scr/6
  EXPECT_EQ(t.next, kReqSent);
  EXPECT_THAT(ToVector(t.actions), ElementsAre(tld, ircC, scr));
  EXPECT_FALSE(t.illegal);
}

TEST(FsmNamesTest, StateNamesAreTheRfcs) {
  EXPECT_EQ(StateName(kInitial), "Initial");
  EXPECT_EQ(StateName(kStarting), "Starting");
  EXPECT_EQ(StateName(kClosed), "Closed");
  EXPECT_EQ(StateName(kStopped), "Stopped");
  EXPECT_EQ(StateName(kClosing), "Closing");
  EXPECT_EQ(StateName(kStopping), "Stopping");
  EXPECT_EQ(StateName(kReqSent), "Req-Sent");
  EXPECT_EQ(StateName(kAckRcvd), "Ack-Rcvd");
  EXPECT_EQ(StateName(kAckSent), "Ack-Sent");
  EXPECT_EQ(StateName(kOpened), "Opened");
  // RFC 1661 4.2 numbers the states 0..9.
  EXPECT_EQ(static_cast<int>(kReqSent), 6);
  EXPECT_EQ(static_cast<int>(kOpened), 9);
}

TEST(FsmNamesTest, EventNamesAreTheRfcs) {
  const std::vector<std::pair<Event, absl::string_view>> expected = {
      {kUp, "Up"},          {kDown, "Down"},          {kOpen, "Open"},
      {kClose, "Close"},    {kTimeoutPlus, "TO+"},    {kTimeoutMinus, "TO-"},
      {kRcrPlus, "RCR+"},   {kRcrMinus, "RCR-"},      {kRca, "RCA"},
      {kRcn, "RCN"},        {kRtr, "RTR"},            {kRta, "RTA"},
      {kRuc, "RUC"},        {kRxjPlus, "RXJ+"},       {kRxjMinus, "RXJ-"},
      {kRxr, "RXR"},
  };
  ASSERT_EQ(expected.size(), static_cast<size_t>(kNumEvents));
  for (const auto& [event, name] : expected) EXPECT_EQ(EventName(event), name);
}

TEST(FsmNamesTest, ActionNamesAreTheRfcs) {
  const std::vector<std::pair<Action, absl::string_view>> expected = {
      {tlu, "tlu"}, {tld, "tld"}, {tls, "tls"}, {tlf, "tlf"},
      {ircC, "irc"}, {ircT, "irc"}, {zrc, "zrc"}, {scr, "scr"},
      {sca, "sca"}, {scn, "scn"}, {str, "str"}, {sta, "sta"},
      {scj, "scj"}, {ser, "ser"},
  };
  for (const auto& [action, name] : expected) {
    EXPECT_EQ(ActionName(action), name);
  }
}

TEST(FsmNamesTest, FormatTransitionForLogs) {
  EXPECT_EQ(FormatTransition(kReqSent, kRcrPlus, Step(kReqSent, kRcrPlus)),
            "Req-Sent -RCR+-> Ack-Sent [sca]");
  EXPECT_EQ(FormatTransition(kOpened, kClose, Step(kOpened, kClose)),
            "Opened -Close-> Closing [tld,irc,str]");
  EXPECT_EQ(FormatTransition(kInitial, kRca, Step(kInitial, kRca)),
            "Initial -RCA-> illegal");
  EXPECT_EQ(FormatTransition(kAckRcvd, kRca, Step(kAckRcvd, kRca)),
            "Ack-Rcvd -RCA-> Req-Sent [scr] (crossed connection)");
  EXPECT_EQ(FormatTransition(kReqSent, kRxjPlus, Step(kReqSent, kRxjPlus)),
            "Req-Sent -RXJ+-> Req-Sent");
}

// RFC 1661 4.2/4.6: the Restart timer runs in Closing, Stopping, Req-Sent,
// Ack-Rcvd and Ack-Sent only.
TEST(RestartTimerTest, RunsOnlyInTheRfcsStates) {
  EXPECT_FALSE(RestartTimerRuns(kInitial));
  EXPECT_FALSE(RestartTimerRuns(kStarting));
  EXPECT_FALSE(RestartTimerRuns(kClosed));
  EXPECT_FALSE(RestartTimerRuns(kStopped));
  EXPECT_TRUE(RestartTimerRuns(kClosing));
  EXPECT_TRUE(RestartTimerRuns(kStopping));
  EXPECT_TRUE(RestartTimerRuns(kReqSent));
  EXPECT_TRUE(RestartTimerRuns(kAckRcvd));
  EXPECT_TRUE(RestartTimerRuns(kAckSent));
  EXPECT_FALSE(RestartTimerRuns(kOpened));
}

// Timeouts can only happen where the timer runs: TO+/TO- are legal exactly
// in the timer states.
TEST(RestartTimerTest, TimeoutsLegalExactlyWhereTheTimerRuns) {
  for (int i = 0; i < kNumStates; ++i) {
    const State s = static_cast<State>(i);
    EXPECT_EQ(!Step(s, kTimeoutPlus).illegal, RestartTimerRuns(s))
        << StateName(s);
    EXPECT_EQ(!Step(s, kTimeoutMinus).illegal, RestartTimerRuns(s))
        << StateName(s);
  }
}

// Every legal transition into a timer state from a state without the timer
// sends scr/str or zeroes the counter, so Automaton's kStart covers it and
// kLeave never leaves a needed timer unstarted.
TEST(RestartTimerTest, EnteringATimerStateAlwaysStartsTheTimer) {
  for (FsmOptions options :
       {FsmOptions{}, FsmOptions{.passive = true, .restart = true}}) {
    for (int i = 0; i < kNumStates; ++i) {
      for (int j = 0; j < kNumEvents; ++j) {
        const State s = static_cast<State>(i);
        const Event e = static_cast<Event>(j);
        const Transition t = Step(s, e, options);
        if (t.illegal || RestartTimerRuns(s) || !RestartTimerRuns(t.next)) {
          continue;
        }
        EXPECT_TRUE(t.actions.Contains(scr) || t.actions.Contains(str) ||
                    t.actions.Contains(zrc))
            << FormatTransition(s, e, t);
      }
    }
  }
}

TEST(AutomatonTest, RfcDefaults) {
  // RFC 1661 4.6: Restart timer 3 s, Max-Terminate 2, Max-Configure 10.
  const FsmConfig config;
  EXPECT_EQ(config.max_configure, 10);
  EXPECT_EQ(config.max_terminate, 2);
  EXPECT_EQ(config.restart_timer, absl::Seconds(3));
  EXPECT_FALSE(config.options.passive);
  EXPECT_FALSE(config.options.restart);
  const Automaton fsm;
  EXPECT_EQ(fsm.state(), kInitial);
  EXPECT_EQ(fsm.restart_count(), 0);
  EXPECT_FALSE(fsm.restart_timer_running());
}

// Drives `fsm` with timer expiries until TO-, counting the scr and str sent
// (including by the TO- itself, which sends none).
struct TimeoutRun {
  int scr_count = 0;
  int str_count = 0;
  Outcome last;
};
TimeoutRun ExpireUntilTimeoutMinus(Automaton& fsm) {
  TimeoutRun run;
  for (int guard = 0; guard < 100; ++guard) {
    const Event e = fsm.TimeoutEvent();
    run.last = fsm.HandleTimeout();
    EXPECT_EQ(run.last.event, e);
    EXPECT_FALSE(run.last.illegal());
    for (Action a : run.last.actions()) {
      if (a == scr) ++run.scr_count;
      if (a == str) ++run.str_count;
    }
    if (e == kTimeoutMinus) return run;
    EXPECT_EQ(run.last.timer, TimerCommand::kStart);
  }
  ADD_FAILURE() << "no TO- after 100 expiries";
  return run;
}

// RFC 1661 4.6 Max-Configure: 10 Configure-Requests without a response,
// then TO- -> Stopped with tlf (4.1 tlf/3p without [p]).
TEST(AutomatonTest, MaxConfigureGivesTenConfigureRequestsThenStopped) {
  Automaton fsm;
  Outcome o = fsm.Handle(kOpen);
  EXPECT_EQ(o.next(), kStarting);
  EXPECT_THAT(ToVector(o.actions()), ElementsAre(tls));
  o = fsm.Handle(kUp);
  EXPECT_EQ(o.next(), kReqSent);
  EXPECT_THAT(ToVector(o.actions()), ElementsAre(ircC, scr));
  EXPECT_EQ(o.timer, TimerCommand::kStart);
  EXPECT_EQ(fsm.restart_count(), 9);  // decremented for the first one too
  EXPECT_EQ(fsm.TimeoutEvent(), kTimeoutPlus);

  TimeoutRun run = ExpireUntilTimeoutMinus(fsm);
  EXPECT_EQ(1 + run.scr_count, 10);
  EXPECT_EQ(run.last.event, kTimeoutMinus);
  EXPECT_EQ(run.last.next(), kStopped);
  EXPECT_THAT(ToVector(run.last.actions()), ElementsAre(tlf));
  EXPECT_EQ(run.last.timer, TimerCommand::kStop);
  EXPECT_EQ(fsm.state(), kStopped);
  EXPECT_FALSE(fsm.restart_timer_running());
}

TEST(AutomatonTest, MaxConfigureIsConfigurable) {
  Automaton fsm(FsmConfig{.max_configure = 3});
  fsm.Handle(kUp);
  fsm.Handle(kOpen);  // Closed -> irc,scr/6
  TimeoutRun run = ExpireUntilTimeoutMinus(fsm);
  EXPECT_EQ(1 + run.scr_count, 3);
  EXPECT_EQ(fsm.state(), kStopped);
}

// Brings a default Automaton to Opened: Open, Up, RCA, RCR+.
Automaton OpenedAutomaton(FsmConfig config = {}) {
  Automaton fsm(config);
  fsm.Handle(kOpen);
  fsm.Handle(kUp);
  fsm.Handle(kRca);
  fsm.Handle(kRcrPlus);
  EXPECT_EQ(fsm.state(), kOpened);
  return fsm;
}

// RFC 1661 4.6 Max-Terminate: 2 Terminate-Requests, then TO- -> Closed.
TEST(AutomatonTest, MaxTerminateGivesTwoTerminateRequestsThenClosed) {
  Automaton fsm = OpenedAutomaton();
  Outcome o = fsm.Handle(kClose);
  EXPECT_EQ(o.next(), kClosing);
  EXPECT_THAT(ToVector(o.actions()), ElementsAre(tld, ircT, str));
  EXPECT_EQ(o.timer, TimerCommand::kStart);
  EXPECT_EQ(fsm.restart_count(), 1);

  TimeoutRun run = ExpireUntilTimeoutMinus(fsm);
  EXPECT_EQ(1 + run.str_count, 2);
  EXPECT_EQ(run.scr_count, 0);
  EXPECT_EQ(run.last.next(), kClosed);
  EXPECT_THAT(ToVector(run.last.actions()), ElementsAre(tlf));
  EXPECT_EQ(run.last.timer, TimerCommand::kStop);
}

TEST(AutomatonTest, TerminateAckEndsClosingEarly) {
  Automaton fsm = OpenedAutomaton();
  fsm.Handle(kClose);
  Outcome o = fsm.Handle(kRta);  // tlf/2
  EXPECT_EQ(o.next(), kClosed);
  EXPECT_THAT(ToVector(o.actions()), ElementsAre(tlf));
  EXPECT_EQ(o.timer, TimerCommand::kStop);
}

// RFC 1661 4.4 zrc: RTR in Opened zeroes the counter, so the next expiry is
// TO- and Stopping ends after one restart period.
TEST(AutomatonTest, ZeroRestartCountOnTerminateRequestInOpened) {
  Automaton fsm = OpenedAutomaton();
  EXPECT_GT(fsm.restart_count(), 0);
  Outcome o = fsm.Handle(kRtr);
  EXPECT_EQ(o.next(), kStopping);
  EXPECT_THAT(ToVector(o.actions()), ElementsAre(tld, zrc, sta));
  EXPECT_EQ(o.timer, TimerCommand::kStart);
  EXPECT_EQ(fsm.restart_count(), 0);
  EXPECT_EQ(fsm.TimeoutEvent(), kTimeoutMinus);
  o = fsm.HandleTimeout();
  EXPECT_EQ(o.event, kTimeoutMinus);
  EXPECT_EQ(o.next(), kStopped);
  EXPECT_THAT(ToVector(o.actions()), ElementsAre(tlf));
  EXPECT_EQ(o.timer, TimerCommand::kStop);
}

TEST(AutomatonTest, CatastrophicRejectInOpenedTerminates) {
  Automaton fsm = OpenedAutomaton();
  Outcome o = fsm.Handle(kRxjMinus);  // tld,irc,str/5
  EXPECT_EQ(o.next(), kStopping);
  EXPECT_THAT(ToVector(o.actions()), ElementsAre(tld, ircT, str));
  EXPECT_EQ(fsm.restart_count(), 1);  // Max-Terminate 2, one str sent
  EXPECT_EQ(o.timer, TimerCommand::kStart);
}

// [p]: after Max-Configure unanswered requests a passive automaton waits in
// Stopped (no tlf); the peer's Configure-Request then restarts negotiation
// (irc,scr,sca/8).
TEST(AutomatonTest, PassiveOptionWaitsInStoppedForThePeer) {
  Automaton fsm(FsmConfig{.options = {.passive = true}});
  fsm.Handle(kOpen);
  fsm.Handle(kUp);
  TimeoutRun run = ExpireUntilTimeoutMinus(fsm);
  EXPECT_EQ(1 + run.scr_count, 10);
  EXPECT_EQ(run.last.next(), kStopped);
  EXPECT_THAT(ToVector(run.last.actions()), IsEmpty());
  EXPECT_EQ(run.last.timer, TimerCommand::kStop);

  Outcome o = fsm.Handle(kRcrPlus);
  EXPECT_EQ(o.next(), kAckSent);
  EXPECT_THAT(ToVector(o.actions()), ElementsAre(ircC, scr, sca));
  EXPECT_EQ(o.timer, TimerCommand::kStart);
  EXPECT_EQ(fsm.restart_count(), 9);
  o = fsm.Handle(kRca);
  EXPECT_EQ(o.next(), kOpened);
  EXPECT_THAT(ToVector(o.actions()), ElementsAre(ircC, tlu));
  EXPECT_EQ(o.timer, TimerCommand::kStop);
}

TEST(AutomatonTest, StoppedWithoutPassiveFinishesTheLayer) {
  Automaton fsm;
  fsm.Handle(kOpen);
  fsm.Handle(kUp);
  TimeoutRun run = ExpireUntilTimeoutMinus(fsm);
  EXPECT_THAT(ToVector(run.last.actions()), ElementsAre(tlf));
  // Stopped waits for Down (RFC 4.2); Down then restarts through Starting.
  Outcome o = fsm.Handle(kDown);
  EXPECT_EQ(o.next(), kStarting);
  EXPECT_THAT(ToVector(o.actions()), ElementsAre(tls));
}

// RFC 1661 4.1: Open then Up; our Configure-Ack'd first (RCA), then the
// peer's acceptable request (RCR+).
TEST(AutomatonTest, HappyPathRcaThenRcrPlus) {
  Automaton fsm;
  Outcome o = fsm.Handle(kOpen);  // tls/1
  EXPECT_EQ(o.next(), kStarting);
  EXPECT_THAT(ToVector(o.actions()), ElementsAre(tls));
  EXPECT_EQ(o.timer, TimerCommand::kStop);
  o = fsm.Handle(kUp);  // irc,scr/6
  EXPECT_EQ(o.next(), kReqSent);
  EXPECT_THAT(ToVector(o.actions()), ElementsAre(ircC, scr));
  EXPECT_EQ(o.timer, TimerCommand::kStart);
  o = fsm.Handle(kRca);  // irc/7
  EXPECT_EQ(o.next(), kAckRcvd);
  EXPECT_THAT(ToVector(o.actions()), ElementsAre(ircC));
  EXPECT_EQ(o.timer, TimerCommand::kLeave);
  EXPECT_EQ(fsm.restart_count(), 10);
  o = fsm.Handle(kRcrPlus);  // sca,tlu/9
  EXPECT_EQ(o.next(), kOpened);
  EXPECT_THAT(ToVector(o.actions()), ElementsAre(sca, tlu));
  EXPECT_EQ(o.timer, TimerCommand::kStop);
  EXPECT_EQ(fsm.state(), kOpened);
}

// The other order, with Up before Open: Initial -Up-> Closed -Open->
// Req-Sent, then RCR+ (sca/8) and RCA (irc,tlu/9).
TEST(AutomatonTest, HappyPathRcrPlusThenRca) {
  Automaton fsm;
  Outcome o = fsm.Handle(kUp);  // 2
  EXPECT_EQ(o.next(), kClosed);
  EXPECT_THAT(ToVector(o.actions()), IsEmpty());
  o = fsm.Handle(kOpen);  // irc,scr/6
  EXPECT_EQ(o.next(), kReqSent);
  EXPECT_THAT(ToVector(o.actions()), ElementsAre(ircC, scr));
  EXPECT_EQ(o.timer, TimerCommand::kStart);
  o = fsm.Handle(kRcrPlus);  // sca/8
  EXPECT_EQ(o.next(), kAckSent);
  EXPECT_THAT(ToVector(o.actions()), ElementsAre(sca));
  EXPECT_EQ(o.timer, TimerCommand::kLeave);
  o = fsm.Handle(kRca);  // irc,tlu/9
  EXPECT_EQ(o.next(), kOpened);
  EXPECT_THAT(ToVector(o.actions()), ElementsAre(ircC, tlu));
  EXPECT_EQ(o.timer, TimerCommand::kStop);
}

TEST(AutomatonTest, NakThenAckReachesOpened) {
  Automaton fsm;
  fsm.Handle(kOpen);
  fsm.Handle(kUp);
  fsm.HandleTimeout();  // TO+: second scr, counter 8
  EXPECT_EQ(fsm.restart_count(), 8);
  Outcome o = fsm.Handle(kRcn);  // irc,scr/6: the counter restarts
  EXPECT_THAT(ToVector(o.actions()), ElementsAre(ircC, scr));
  EXPECT_EQ(o.timer, TimerCommand::kStart);
  EXPECT_EQ(fsm.restart_count(), 9);
  fsm.Handle(kRcrMinus);  // scn/6
  EXPECT_EQ(fsm.state(), kReqSent);
  fsm.Handle(kRcrPlus);  // sca/8
  fsm.Handle(kRca);      // irc,tlu/9
  EXPECT_EQ(fsm.state(), kOpened);
}

// RFC 1661 4.3 RCR: "The implementation MUST be prepared to immediately
// renegotiate" in Opened: tld,scr,sca/8.
TEST(AutomatonTest, RenegotiationFromOpenedOnRcrPlus) {
  Automaton fsm = OpenedAutomaton();
  Outcome o = fsm.Handle(kRcrPlus);
  EXPECT_EQ(o.from, kOpened);
  EXPECT_EQ(o.next(), kAckSent);
  EXPECT_THAT(ToVector(o.actions()), ElementsAre(tld, scr, sca));
  EXPECT_EQ(o.timer, TimerCommand::kStart);
  EXPECT_TRUE(fsm.restart_timer_running());
  o = fsm.Handle(kRca);
  EXPECT_EQ(o.next(), kOpened);
  EXPECT_THAT(ToVector(o.actions()), ElementsAre(ircC, tlu));
}

TEST(AutomatonTest, EchoRequestInOpenedIsAnswered) {
  Automaton fsm = OpenedAutomaton();
  Outcome o = fsm.Handle(kRxr);
  EXPECT_EQ(o.next(), kOpened);
  EXPECT_THAT(ToVector(o.actions()), ElementsAre(ser));
  EXPECT_EQ(o.timer, TimerCommand::kStop);
}

TEST(AutomatonTest, IllegalEventChangesNothing) {
  Automaton fsm;
  fsm.Handle(kOpen);  // Starting
  const int count = fsm.restart_count();
  Outcome o = fsm.Handle(kRca);
  EXPECT_TRUE(o.illegal());
  EXPECT_EQ(o.from, kStarting);
  EXPECT_EQ(o.next(), kStarting);
  EXPECT_THAT(ToVector(o.actions()), IsEmpty());
  EXPECT_EQ(o.timer, TimerCommand::kLeave);
  EXPECT_EQ(fsm.state(), kStarting);
  EXPECT_EQ(fsm.restart_count(), count);
}

TEST(AutomatonTest, CrossedConnectionIsFlagged) {
  Automaton fsm = OpenedAutomaton();
  Outcome o = fsm.Handle(kRca);  // tld,scr/6x
  EXPECT_TRUE(o.transition.crossed_connection);
  EXPECT_EQ(o.next(), kReqSent);
  EXPECT_THAT(ToVector(o.actions()), ElementsAre(tld, scr));
  EXPECT_EQ(o.timer, TimerCommand::kStart);
}

// [r] through the Automaton: a second Open in Opened renegotiates.
TEST(AutomatonTest, RestartOptionRenegotiatesOnOpen) {
  Automaton fsm = OpenedAutomaton(FsmConfig{.options = {.restart = true}});
  Outcome o = fsm.Handle(kOpen);
  EXPECT_EQ(o.next(), kReqSent);
  EXPECT_THAT(ToVector(o.actions()), ElementsAre(tld, ircC, scr));
  EXPECT_EQ(o.timer, TimerCommand::kStart);
  EXPECT_EQ(fsm.restart_count(), 9);
}

TEST(AutomatonTest, LowerLayerDownInOpened) {
  Automaton fsm = OpenedAutomaton();
  Outcome o = fsm.Handle(kDown);  // tld/1
  EXPECT_EQ(o.next(), kStarting);
  EXPECT_THAT(ToVector(o.actions()), ElementsAre(tld));
  EXPECT_EQ(o.timer, TimerCommand::kStop);
  o = fsm.Handle(kUp);  // irc,scr/6
  EXPECT_EQ(o.next(), kReqSent);
  EXPECT_THAT(ToVector(o.actions()), ElementsAre(ircC, scr));
}

TEST(ActionListTest, EqualityAndContains) {
  const ActionList a = {tld, ircT, str};
  EXPECT_EQ(a.size(), 3u);
  EXPECT_TRUE(a.Contains(ircT));
  EXPECT_FALSE(a.Contains(ircC));
  EXPECT_TRUE(a == (ActionList{tld, ircT, str}));
  EXPECT_FALSE(a == (ActionList{tld, str, ircT}));  // order matters
  EXPECT_FALSE(a == (ActionList{tld, ircT}));
  EXPECT_TRUE(ActionList{}.empty());
}

TEST(FsmPredicateTest, IsNegotiatingOrOpenedExactlyInTheFourExchangingStates) {
  for (int i = 0; i <= static_cast<int>(State::kOpened); ++i) {
    const State state = static_cast<State>(i);
    const bool want = state == State::kReqSent || state == State::kAckRcvd ||
                      state == State::kAckSent || state == State::kOpened;
    EXPECT_EQ(IsNegotiatingOrOpened(state), want) << StateName(state);
  }
}

}  // namespace
}  // namespace sstp::ppp
