-- wrk script for bench/fault.sh: counts every response by time and by the
-- X-Origin header that names the weir-origin which served it.
--
--   wrk ... -s fault.lua URL -- BASE_MS ORIGIN_NAME...
--
-- BASE_MS is the wall-clock time (ms since the epoch, CLOCK_REALTIME, as
-- `date +%s%3N` prints it) that bucket 0 starts at; the ORIGIN_NAMEs are the
-- X-Origin values to count apart (index 1..n; anything else counts as 0).
--
-- Each thread keeps flat tables keyed by number (wrk 4.1's thread:get copies
-- a table of plain values but crashes on nested ones):
--   total[b]                    responses in bucket b (BUCKET_MS wide)
--   bad[b]                      of those, status > 399 (what wrk calls non-2xx/3xx)
--   by_origin[i * 1e6 + b]      responses from origin i in bucket b
--   resume[i * 1e4 + k]         k-th time (ms after BASE_MS) this thread saw
--                               origin i after not seeing it for GAP_MS or more
--                               (the first sighting counts)
-- done() merges the threads and prints "FAULT ..." lines for summarize.py.
-- The clock is read with clock_gettime through LuaJIT's ffi (wrk links LuaJIT).

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } weir_fault_timespec;
int clock_gettime(int clock_id, weir_fault_timespec *tp);
]]
local CLOCK_REALTIME = 0
local ts = ffi.new("weir_fault_timespec")

local BUCKET_MS = 100
local GAP_MS = 1000
local ORIGIN_KEY = 1e6
local RESUME_KEY = 1e4

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local base_ms, origin_index, last_seen, resumes_of

function init(args)
  base_ms = tonumber(args[1]) or error("fault.lua: BASE_MS argument missing")
  origin_index = {}
  for i = 2, #args do
    origin_index[args[i]] = i - 1
  end
  total, bad, by_origin, resume = {}, {}, {}, {}
  last_seen, resumes_of = {}, {}
end

local function now_rel_ms()
  ffi.C.clock_gettime(CLOCK_REALTIME, ts)
  return (tonumber(ts.tv_sec) * 1000 + math.floor(tonumber(ts.tv_nsec) / 1e6)) - base_ms
end

function response(status, headers, body)
  local t = now_rel_ms()
  local b = math.floor(t / BUCKET_MS)
  total[b] = (total[b] or 0) + 1
  if status > 399 then
    bad[b] = (bad[b] or 0) + 1
  end
  -- HAProxy sends header names in lower case.
  local name = headers["X-Origin"] or headers["x-origin"]
  local i = name and origin_index[name] or 0
  local key = i * ORIGIN_KEY + b
  by_origin[key] = (by_origin[key] or 0) + 1
  local last = last_seen[i]
  if last == nil or t - last >= GAP_MS then
    local k = (resumes_of[i] or 0) + 1
    resumes_of[i] = k
    resume[i * RESUME_KEY + k] = t
  end
  last_seen[i] = t
end

local function add(into, from)
  for k, v in pairs(from or {}) do
    into[k] = (into[k] or 0) + v
  end
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do
    table.insert(keys, k)
  end
  table.sort(keys)
  return keys
end

function done(summary, latency, requests)
  local e = summary.errors
  print(string.format("FAULT summary requests=%d duration_us=%d connect=%d read=%d write=%d timeout=%d status=%d",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status))
  print(string.format("FAULT bucket_ms=%d", BUCKET_MS))
  local all_total, all_bad, all_origin = {}, {}, {}
  local first_resume = {}  -- [i] = { times from every thread }
  for _, thread in ipairs(threads) do
    add(all_total, thread:get("total"))
    add(all_bad, thread:get("bad"))
    add(all_origin, thread:get("by_origin"))
    for k, t in pairs(thread:get("resume") or {}) do
      local i = math.floor(k / RESUME_KEY)
      first_resume[i] = first_resume[i] or {}
      table.insert(first_resume[i], t)
    end
  end
  for _, b in ipairs(sorted_keys(all_total)) do
    print(string.format("FAULT total %d %d %d", b, all_total[b], all_bad[b] or 0))
  end
  for _, k in ipairs(sorted_keys(all_origin)) do
    local i = math.floor(k / ORIGIN_KEY)
    print(string.format("FAULT origin %d %d %d", i, k - i * ORIGIN_KEY, all_origin[k]))
  end
  for i, times in pairs(first_resume) do
    table.sort(times)
    for _, t in ipairs(times) do
      print(string.format("FAULT resume %d %d", i, t))
    end
  end
end
