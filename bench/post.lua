-- wrk script for the bench: POST one JSON body with the Masthead API key, count successes
-- exactly (wrk itself only counts status >= 400), and print one machine-readable line.
-- Body and key come from the environment so that this file never holds a secret. A success
-- is BENCH_OK_STATUS (default 201) whose body contains BENCH_OK_TEXT (if set): an MCP tool
-- call answers 200 either way and says `"isError":false` only when it worked.

wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["blotato-api-key"] = os.getenv("BENCH_API_KEY") or ""
-- BENCH_HEADERS: more headers, one "Name: value" a line.
for line in string.gmatch(os.getenv("BENCH_HEADERS") or "", "[^\n]+") do
  local name, value = string.match(line, "^([^:]+):%s*(.*)$")
  if name then
    wrk.headers[name] = value
  end
end
local ok_status = tonumber(os.getenv("BENCH_OK_STATUS") or "201")
local ok_text = os.getenv("BENCH_OK_TEXT") or ""

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  created = 0
  other = 0
end

function response(status, headers, body)
  if status == ok_status and (ok_text == "" or string.find(body, ok_text, 1, true)) then
    created = created + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local c, o = 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    o = o + t:get("other")
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH_RESULT {\"requests\":%d,\"duration_us\":%d,\"created\":%d,\"other\":%d," ..
    "\"p50_us\":%d,\"p90_us\":%d,\"p99_us\":%d,\"max_us\":%d,\"mean_us\":%.1f," ..
    "\"connect_errors\":%d,\"read_errors\":%d,\"write_errors\":%d,\"status_errors\":%d," ..
    "\"timeouts\":%d}\n",
    summary.requests, summary.duration, c, o,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
end
