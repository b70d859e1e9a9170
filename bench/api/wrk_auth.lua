-- wrk_auth.lua - wrk script for the API benchmark.
--
--   BENCH_TOKEN=<jwt> wrk -t2 -c100 -d10s --latency -s wrk_auth.lua URL [-- rate=R threads=T]
--
-- * Sends "Authorization: Bearer $BENCH_TOKEN" on every request (no header
--   when BENCH_TOKEN is unset or empty: nginx needs none).
-- * rate=R (total requests/s) with threads=T (wrk's -t, default 2): a
--   constant-throughput schedule.  Debian's wrk 4.1 has no -R (that is
--   wrk2), but it calls delay() before every request and waits that many ms,
--   so each thread books send slots every 1000*T/R ms on CLOCK_MONOTONIC
--   (LuaJIT ffi) and delay() returns the time to the next slot.  A slot
--   missed while every connection is busy is sent at once (a backlog of at
--   most 1 s is kept), so the achieved rate tells whether the server kept up.
--   wrk measures latency from the actual send, so queueing behind a late
--   slot is not counted (coordinated omission; fine at half the maximum rate,
--   where the server keeps up).  The timer has 1 ms resolution, so a send may
--   come up to 1 ms early; slots do not drift.
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. token
end

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } wrk_bench_timespec;
int clock_gettime(int clk_id, wrk_bench_timespec *tp);
]]
local ts = ffi.new("wrk_bench_timespec")
local CLOCK_MONOTONIC = 1

local function now_ms()
    ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local period = nil   -- ms between this thread's sends
local next_slot = nil

local function paced_delay()
    local now = now_ms()
    if not next_slot then next_slot = now
    elseif next_slot < now - 1000 then next_slot = now - 1000 end
    local d = next_slot - now
    next_slot = next_slot + period
    if d <= 0 then return 0 end
    return d
end

function init(args)
    local rate, threads = nil, 2
    for _, a in ipairs(args) do
        local k, v = a:match("^(%a+)=([%d.]+)$")
        if k == "rate" then rate = tonumber(v)
        elseif k == "threads" then threads = tonumber(v)
        else error("wrk_auth.lua: unknown argument " .. a .. " (rate=R threads=T)") end
    end
    -- delay() is defined only for a paced run: wrk checks for it after
    -- init(), and without it sends each request as soon as the last answer
    -- is read, with no timer in between.
    if rate and rate > 0 then
        period = 1000 * threads / rate
        delay = paced_delay
    end
end
