-- POST /api/bets with a valid bet; user ids cycle over bench-0 … bench-9999.
-- Arguments (after "--"): t_start and t_end in ms since the epoch. bench/http.ts
-- computes them once, an hour ahead, so the window stays in the future all run.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")

local requests = {}
local n = 0

function init(args)
  local t_start, t_end = args[1], args[2]
  assert(t_start and t_end, "usage: wrk -s bench/wrk/bets.lua <url> -- <t_start_ms> <t_end_ms>")
  local headers = { ["Content-Type"] = "application/json" }
  for i = 0, 9999 do
    local body = string.format(
      '{"user_id":"bench-%d","amount":10.5,"cell":{"t_start":%s,"t_end":%s,"price_low":42000,"price_high":42010}}',
      i, t_start, t_end)
    requests[i + 1] = wrk.format("POST", "/api/bets", headers, body)
  end
end

-- Pre-built requests: the generator spends nothing formatting during the run.
function request()
  n = n % #requests + 1
  return requests[n]
end
