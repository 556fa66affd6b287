-- wrk script for bench/stale.sh: spreads requests over PATHS cached URLs
-- and counts every response by time and status.
--
--   wrk ... -s stale.lua URL -- BASE_MS PATHS BYTES
--
-- BASE_MS: the wall-clock time (ms since the epoch) bucket 0 starts at.
-- Request k of a thread goes to /bytes/BYTES?cache=1&k=(k mod PATHS), so
-- every URL is requested about equally often. Per thread, flat tables
-- keyed by bucket (BUCKET_MS wide): total[b] responses, ok[b] of them 200.
-- done() merges the threads and prints "STALE ..." lines for summarize.py.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } weir_stale_timespec;
int clock_gettime(int clock_id, weir_stale_timespec *tp);
]]
local ts = ffi.new("weir_stale_timespec")
local BUCKET_MS = 100
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

local base_ms, paths, bytes, k

function init(args)
  base_ms = tonumber(args[1]) or error("stale.lua: BASE_MS argument missing")
  paths = tonumber(args[2]) or 100
  bytes = tonumber(args[3]) or 1000
  k = id or 0
  total, ok = {}, {}
end

function request()
  k = k + 1
  return wrk.format("GET", "/bytes/" .. bytes .. "?cache=1&k=" .. (k % paths))
end

function response(status, headers, body)
  ffi.C.clock_gettime(0, ts)
  local t = (tonumber(ts.tv_sec) * 1000 + math.floor(tonumber(ts.tv_nsec) / 1e6)) - base_ms
  local b = math.floor(t / BUCKET_MS)
  total[b] = (total[b] or 0) + 1
  if status == 200 then
    ok[b] = (ok[b] or 0) + 1
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  print(string.format("STALE summary requests=%d duration_us=%d connect=%d read=%d write=%d timeout=%d status=%d",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status))
  print(string.format("STALE bucket_ms=%d", BUCKET_MS))
  local all_total, all_ok = {}, {}
  for _, thread in ipairs(threads) do
    for b, v in pairs(thread:get("total") or {}) do all_total[b] = (all_total[b] or 0) + v end
    for b, v in pairs(thread:get("ok") or {}) do all_ok[b] = (all_ok[b] or 0) + v end
  end
  local keys = {}
  for b in pairs(all_total) do table.insert(keys, b) end
  table.sort(keys)
  for _, b in ipairs(keys) do
    print(string.format("STALE total %d %d %d", b, all_total[b], all_ok[b] or 0))
  end
end
