-- wrk script: POST Twilio-shaped form webhooks read from a file, one request per line:
--   <path>\t<form body>
-- Requests are sent in file order, cycling. Used with: wrk -s post.lua URL -- FILE [close]
-- "close" adds Connection: close to every request: one new TCP connection per request, whatever
-- the server would keep alive (gunicorn's sync workers close after every response anyway).
-- done() prints one JSON line with the totals and latency percentiles (microseconds).
local reqs = {}
local n = 0
local i = 0

function init(args)
  local f = assert(io.open(args[1], "r"))
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["User-Agent"] = "TwilioProxy/1.1",
  }
  if args[2] == "close" then headers["Connection"] = "close" end
  for line in f:lines() do
    local path, body = line:match("^([^\t]+)\t(.*)$")
    if path then
      n = n + 1
      reqs[n] = wrk.format("POST", path, headers, body)
    end
  end
  f:close()
end

function request()
  i = i + 1
  if i > n then i = 1 end
  return reqs[i]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "status_errors": %d, "timeouts": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
