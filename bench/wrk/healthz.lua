-- GET (the URL's path, e.g. /healthz) with nothing but the JSON report.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")
