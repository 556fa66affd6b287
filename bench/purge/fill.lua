-- wrk script for bench/purge.sh: requests /a/N?cache=600 for N = 0, 1, ...
-- COUNT-1, each thread its share, then again from 0 (hits by then).
--   wrk ... -s fill.lua URL -- COUNT
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end
function init(args)
  count = tonumber(args[1]) or 100000
  k = id or 0
end
function request()
  k = k + 2
  return wrk.format("GET", "/a/" .. (k % count) .. "?cache=600")
end
