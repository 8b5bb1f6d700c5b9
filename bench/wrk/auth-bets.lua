-- POST /api/bets as many players: each request a session's bearer token and an
-- open grid cell, pre-built from a file that bench/bets.ts writes (one line per
-- request: "<token> <json body>"). Counts every answer by status and prints
-- "WRK_STATUS {...}" beside report.lua's "WRK_JSON" line.
-- Arguments (after "--"): the requests file.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")

local requests = {}
local n = 0
statuses = {}

function init(args)
  local path = assert(args[1], "usage: wrk -s bench/wrk/auth-bets.lua <url> -- <requests file>")
  for line in io.lines(path) do
    local token, body = line:match("^(%S+) (.+)$")
    requests[#requests + 1] = wrk.format("POST", "/api/bets",
      { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }, body)
  end
  assert(#requests > 0, "no requests in " .. path)
  -- Each thread starts at a different place so threads do not move in step.
  n = math.random(#requests) - 1
end

function request()
  n = n % #requests + 1
  return requests[n]
end

function response(status)
  statuses[status] = (statuses[status] or 0) + 1
end

local threads = {}
function setup(thread) threads[#threads + 1] = thread end

local report_done = done
function done(summary, latency, requests_)
  report_done(summary, latency, requests_)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do total[status] = (total[status] or 0) + count end
  end
  local parts = {}
  for status, count in pairs(total) do parts[#parts + 1] = string.format('"%d":%d', status, count) end
  io.write("WRK_STATUS {" .. table.concat(parts, ",") .. "}\n")
end
