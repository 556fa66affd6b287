// Request IDs (issue 7) through the real binary: what the upstream
// receives (weir-origin's /headers), what the client gets back, and the
// access-log lines in both formats.
#include <algorithm>
#include <regex>
#include <set>
#include <sstream>

#include "harness.h"

namespace weir::itest {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

bool isNewId(const std::string& id) { return std::regex_match(id, std::regex("[0-9a-f]{32}")); }

// One request with `extra` fields to /headers: the response and the fields
// the upstream received.
struct Seen {
  HttpResponse response;
  Fields upstream;
};

std::optional<Seen> through(Weir& weir, const std::string& target, const std::string& extra = "") {
  auto r = rawRequest(weir.port(), get(target, extra));
  if (!r) return std::nullopt;
  EXPECT_EQ(r->status, 200) << r->rawHead;
  return Seen{*r, parseFields(r->body)};
}

// The combined line's request ID: the quoted field before the last
// (Cache-Status, "-" here: these routes have no cache).
std::string lastCombinedField(const std::string& line) {
  if (!line.ends_with(" \"-\"")) return "<no Cache-Status field at the end>";
  const std::string rest = line.substr(0, line.size() - 4);
  if (rest.size() < 3 || rest.back() != '"') return "<no quoted field at the end>";
  size_t open = rest.rfind('"', rest.size() - 2);
  return open == std::string::npos ? "<unbalanced>" : rest.substr(open + 1, rest.size() - open - 2);
}

std::optional<std::string> logLineWith(Weir& weir, const std::string& path, const std::string& needle) {
  return weir.waitForLogLine(path, [&](const std::string& l) { return l.find(needle) != std::string::npos; });
}

using RequestIds = ProxyTest;

TEST_F(RequestIds, NewIdGoesUpstreamBackToTheClientAndIntoTheLog) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  auto seen = through(weir(), "/headers?new");
  ASSERT_TRUE(seen);
  const std::vector<std::string> up = fieldValues(seen->upstream, "X-Request-Id");
  ASSERT_EQ(up.size(), 1u) << seen->response.body;
  EXPECT_TRUE(isNewId(up[0])) << up[0];
  EXPECT_EQ(seen->response.headerAll("X-Request-Id"), up) << seen->response.rawHead;
  auto line = logLineWith(weir(), weir().accessLogPath(), "/headers?new");
  ASSERT_TRUE(line) << weir().accessLog();
  EXPECT_EQ(lastCombinedField(*line), up[0]) << *line;
}

TEST_F(RequestIds, AWellFormedClientIdIsKeptEndToEnd) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  const std::string id = "Client-42.a_b:c+d/e=";
  auto seen = through(weir(), "/headers?kept", "x-request-id: " + id + "\r\n");
  ASSERT_TRUE(seen);
  EXPECT_EQ(fieldValues(seen->upstream, "X-Request-Id"), std::vector<std::string>{id}) << seen->response.body;
  EXPECT_EQ(seen->response.headerAll("X-Request-Id"), std::vector<std::string>{id});
  auto line = logLineWith(weir(), weir().accessLogPath(), "/headers?kept");
  ASSERT_TRUE(line);
  EXPECT_EQ(lastCombinedField(*line), id) << *line;
}

TEST_F(RequestIds, IllFormedClientIdsAreReplaced) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"long", "X-Request-Id: " + std::string(129, 'a') + "\r\n"},
      {"space", "X-Request-Id: two words\r\n"},
      {"quote", "X-Request-Id: a\"b\r\n"},
      {"forge", "X-Request-Id: x\" \"forged\r\n"},
      {"empty", "X-Request-Id:\r\n"},
      {"two", "X-Request-Id: one\r\nX-Request-Id: two\r\n"},
  };
  for (const auto& [name, fields] : cases) {
    SCOPED_TRACE(name);
    auto seen = through(weir(), "/headers?bad=" + name, fields);
    ASSERT_TRUE(seen);
    const std::vector<std::string> up = fieldValues(seen->upstream, "X-Request-Id");
    ASSERT_EQ(up.size(), 1u) << seen->response.body;
    EXPECT_TRUE(isNewId(up[0])) << up[0];
    EXPECT_EQ(seen->response.headerAll("X-Request-Id"), up);
    auto line = logLineWith(weir(), weir().accessLogPath(), "?bad=" + name + " ");
    ASSERT_TRUE(line) << weir().accessLog();
    EXPECT_EQ(lastCombinedField(*line), up[0]) << *line;
    EXPECT_EQ(line->find("forged"), std::string::npos) << *line;
  }
}

// The upstream's own field of that name is replaced by weir's value.
TEST(RequestIdsUpstream, TheUpstreamsFieldIsReplacedByWeirs) {
  FakeUpstream up(FakeUpstream::Mode::kScripted,
                  "HTTP/1.1 200 OK\r\nX-Request-Id: from-upstream\r\nContent-Length: 2\r\n\r\nok");
  Weir weir(poolConfig({up.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  auto r = rawRequest(weir.port(), get("/", "X-Request-Id: mine\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->headerAll("X-Request-Id"), std::vector<std::string>{"mine"}) << r->rawHead;
}

TEST(RequestIdsConfig, RenamedHeaderWorksAndTheDefaultNameIsOrdinary) {
  Origin origin("a");
  ASSERT_TRUE(origin.ok()) << origin.error();
  Weir weir("request_id: { header: X-Trace-Id }\n" + poolConfig({origin.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  auto r = rawRequest(weir.port(), get("/headers?renamed", "X-Trace-Id: t-1\r\nX-Request-Id: not \"ours\"\r\n"));
  ASSERT_TRUE(r);
  const Fields f = parseFields(r->body);
  EXPECT_EQ(fieldValues(f, "X-Trace-Id"), std::vector<std::string>{"t-1"}) << r->body;
  EXPECT_EQ(fieldValues(f, "X-Request-Id"), std::vector<std::string>{"not \"ours\""}) << r->body;
  EXPECT_EQ(r->headerAll("X-Trace-Id"), std::vector<std::string>{"t-1"});
  EXPECT_FALSE(r->hasHeader("X-Request-Id"));
  auto line = logLineWith(weir, weir.accessLogPath(), "?renamed");
  ASSERT_TRUE(line);
  EXPECT_EQ(lastCombinedField(*line), "t-1") << *line;
}

TEST(RequestIdsConfig, OffAddsNothingAndLogsADash) {
  Origin origin("a");
  ASSERT_TRUE(origin.ok()) << origin.error();
  Weir weir("request_id: off\n" + poolConfig({origin.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  auto r = rawRequest(weir.port(), get("/headers?off"));
  ASSERT_TRUE(r);
  EXPECT_TRUE(fieldValues(parseFields(r->body), "X-Request-Id").empty()) << r->body;
  EXPECT_FALSE(r->hasHeader("X-Request-Id")) << r->rawHead;
  // A client's field passes as any other field does.
  auto sent = rawRequest(weir.port(), get("/headers?off2", "X-Request-Id: a b\r\n"));
  ASSERT_TRUE(sent);
  EXPECT_EQ(fieldValues(parseFields(sent->body), "X-Request-Id"), std::vector<std::string>{"a b"});
  auto line = logLineWith(weir, weir.accessLogPath(), "?off ");
  ASSERT_TRUE(line);
  EXPECT_EQ(lastCombinedField(*line), "-") << *line;
}

// JSON: "request_id" is the ID, or null when off.
TEST(RequestIdsJson, TheJsonLineCarriesTheId) {
  Origin origin("a");
  ASSERT_TRUE(origin.ok()) << origin.error();
  for (bool on : {true, false}) {
    SCOPED_TRACE(on ? "on" : "off");
    Weir weir(std::string("access_log: { path: ${TMP}/access-") + (on ? "on" : "off") + ".json, format: json }\n" +
              (on ? "" : "request_id: { enabled: false }\n") + poolConfig({origin.address()}));
    ASSERT_TRUE(weir.ok()) << weir.error();
    const std::string path = testDir() + "/access-" + (on ? "on" : "off") + ".json";
    auto r = rawRequest(weir.port(), get("/bytes/3?json", "X-Request-Id: json-1\r\n"));
    ASSERT_TRUE(r);
    auto line = logLineWith(weir, path, "?json");
    ASSERT_TRUE(line) << readFile(path);
    EXPECT_TRUE(line->ends_with(on ? ",\"request_id\":\"json-1\",\"cache_status\":null}" : ",\"request_id\":null,\"cache_status\":null}")) << *line;
  }
}

// Weir's own answers: 404 (no route), 502 (refused), 503 (no server up),
// 504 (timeout) and 400 (a refused head, which gets a new ID).
TEST(RequestIdsErrors, WeirsOwnAnswersCarryTheId) {
  const uint16_t dead = freePort();
  const uint16_t down = freePort();
  FakeUpstream silent(FakeUpstream::Mode::kSilent);
  Weir weir(R"(pools:
  dead: { servers: [{ address: "127.0.0.1:${DEAD}" }], passive: false }
  down:
    health_check: { type: tcp, interval: 100ms, timeout: 100ms, rise: 1, fall: 1 }
    servers: [{ address: "127.0.0.1:${DOWN}" }]
  silent: { servers: [{ address: "${SILENT}" }], timeouts: { upstream_response: 300ms }, retries: 0 }
routes:
  - { match: { path_prefix: /dead }, pool: dead }
  - { match: { path_prefix: /down }, pool: down }
  - { match: { path_prefix: /silent }, pool: silent }
)",
            {{"DEAD", std::to_string(dead)}, {"DOWN", std::to_string(down)}, {"SILENT", silent.address()}});
  ASSERT_TRUE(weir.ok()) << weir.error();
  // Until its first failed probe the server counts as up.
  bool down_seen = false;
  for (auto until = Clock::now() + Ms(3000); !down_seen && Clock::now() < until;) {
    auto r = rawRequest(weir.port(), get("/down?probe"));
    down_seen = r && r->status == 503;
    if (!down_seen) std::this_thread::sleep_for(Ms(50));
  }
  ASSERT_TRUE(down_seen) << weir.errorLog();
  const std::vector<std::pair<std::string, int>> cases = {
      {"/nowhere", 404}, {"/dead", 502}, {"/down", 503}, {"/silent", 504}};
  for (const auto& [path, status] : cases) {
    SCOPED_TRACE(path);
    auto kept = rawRequest(weir.port(), get(path + "?c", "X-Request-Id: err-" + std::to_string(status) + "\r\n"));
    ASSERT_TRUE(kept);
    EXPECT_EQ(kept->status, status);
    EXPECT_EQ(kept->headerAll("X-Request-Id"), std::vector<std::string>{"err-" + std::to_string(status)});
    auto fresh = rawRequest(weir.port(), get(path + "?n"));
    ASSERT_TRUE(fresh);
    EXPECT_EQ(fresh->status, status);
    const std::string id = fresh->header("X-Request-Id").value_or("");
    EXPECT_TRUE(isNewId(id)) << fresh->rawHead;
    auto line = logLineWith(weir, weir.accessLogPath(), path + "?n ");
    ASSERT_TRUE(line) << weir.accessLog();
    EXPECT_EQ(lastCombinedField(*line), id) << *line;
  }
  auto bad = rawRequest(weir.port(), "GET /bad HTTP/1.1\r\nHost: x\r\nX-Request-Id: refused-head\r\nBad Name: y\r\n\r\n");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  const std::string id = bad->header("X-Request-Id").value_or("");
  EXPECT_TRUE(isNewId(id)) << bad->rawHead;
  auto line = logLineWith(weir, weir.accessLogPath(), "\"GET /bad HTTP/1.1\" 400");
  ASSERT_TRUE(line) << weir.accessLog();
  EXPECT_EQ(lastCombinedField(*line), id) << *line;
}

// 1,000 requests over 20 keep-alive connections spread on 2 workers: every
// ID is new, the client's matches the upstream's, and the log has each once.
TEST(RequestIdsLoad, ThousandRequestsOnTwoWorkersGetThousandIds) {
  Origin origin("a", 2);
  ASSERT_TRUE(origin.ok()) << origin.error();
  Weir weir("workers: 2\n" + poolConfig({origin.address()}));
  ASSERT_TRUE(weir.ok()) << weir.error();
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 20; ++i) {
    clients.push_back(std::make_unique<RawClient>(weir.port()));
    ASSERT_TRUE(clients.back()->connected());
  }
  std::set<std::string> ids;
  for (int round = 0; round < 50; ++round) {
    for (auto& c : clients) ASSERT_TRUE(c->send(get("/headers?load")));
    for (auto& c : clients) {
      auto r = c->readResponse(Ms(5000));
      ASSERT_TRUE(r) << c->lastError();
      ASSERT_EQ(r->status, 200);
      const std::string id = r->header("X-Request-Id").value_or("");
      ASSERT_TRUE(isNewId(id)) << r->rawHead;
      EXPECT_EQ(fieldValues(parseFields(r->body), "X-Request-Id"), std::vector<std::string>{id});
      EXPECT_TRUE(ids.insert(id).second) << "repeated " << id;
    }
  }
  EXPECT_EQ(ids.size(), 1000u);
  std::string text;
  for (auto until = Clock::now() + Ms(5000); Clock::now() < until; std::this_thread::sleep_for(Ms(50))) {
    text = weir.accessLog();
    if (std::count(text.begin(), text.end(), '\n') >= 1000) break;
  }
  std::set<std::string> logged;
  std::istringstream log(text);
  for (std::string l; std::getline(log, l);) {
    if (l.find("/headers?load") != std::string::npos) logged.insert(lastCombinedField(l));
  }
  EXPECT_EQ(logged, ids);
}

}  // namespace
}  // namespace weir::itest
