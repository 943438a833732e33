-- wrk script shared by every scenario of `make bench` (the bare endpoint too, so the Lua
-- overhead is the same on both sides of each ratio).
--
-- The runner writes a tab-separated file (path in env BENCH_REQUESTS) with one line per
-- simulated user:   METHOD <TAB> PATH <TAB> COOKIE <TAB> CSRF <TAB> BODY
-- ("-" for an empty field). Lines are dealt out round-robin to the wrk threads; each thread
-- cycles through its own users, so each request carries a different officer's session cookie
-- and X-CSRFToken until the list wraps. Status codes are counted per thread and printed by
-- done() as one JSON line starting with "BENCH_JSON ".

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local reqs = {}
local idx = 0
s2xx, s3xx, s429, s4xx, s5xx = 0, 0, 0, 0, 0

local function split(line)
  local out = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do table.insert(out, field) end
  return out
end

function init(args)
  local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
  local file = assert(io.open(os.getenv("BENCH_REQUESTS"), "r"))
  local all = {}
  for line in file:lines() do
    if line ~= "" then
      local f = split(line)
      local headers = {}
      if f[3] ~= "-" then headers["Cookie"] = f[3] end
      if f[4] ~= "-" then headers["X-CSRFToken"] = f[4] end
      local body = nil
      if f[5] ~= "-" then
        body = f[5]
        headers["Content-Type"] = "application/json"
      end
      table.insert(all, wrk.format(f[1], f[2], headers, body))
    end
  end
  file:close()
  for i, req in ipairs(all) do
    if (i - 1) % nthreads == tid then table.insert(reqs, req) end
  end
  -- Fewer users than threads (the bare endpoint): every thread sends the same request(s).
  if #reqs == 0 then reqs = all end
  if #reqs == 0 then error("no requests in " .. os.getenv("BENCH_REQUESTS")) end
end

function request()
  idx = idx % #reqs + 1
  return reqs[idx]
end

function response(status, headers, body)
  if status == 429 then s429 = s429 + 1
  elseif status >= 500 then s5xx = s5xx + 1
  elseif status >= 400 then s4xx = s4xx + 1
  elseif status >= 300 then s3xx = s3xx + 1
  else s2xx = s2xx + 1 end
end

function done(summary, latency, requests)
  local c = {s2xx = 0, s3xx = 0, s429 = 0, s4xx = 0, s5xx = 0}
  for _, t in ipairs(threads) do
    for k, _ in pairs(c) do c[k] = c[k] + (t:get(k) or 0) end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"status": {"2xx": %d, "3xx": %d, "429": %d, "4xx": %d, "5xx": %d}}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout,
    c.s2xx, c.s3xx, c.s429, c.s4xx, c.s5xx))
end
