-- wrk script: GET /api/v1/stacks/{name} on an obsforge server.
-- Environment: OBSFORGE_STACK (default "shop"), OBSFORGE_TOKEN (Bearer token; unset for a
-- server without tokens). Any status but 200 is counted and reported at the end.
local stack = os.getenv("OBSFORGE_STACK") or "shop"
local token = os.getenv("OBSFORGE_TOKEN")

wrk.method = "GET"
wrk.path = "/api/v1/stacks/" .. stack
wrk.headers["Accept"] = "application/json"
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

local bad = 0

function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  io.write(string.format("requests/s: %.0f\n", summary.requests / (summary.duration / 1e6)))
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("p%g: %.2f ms\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("non-2xx (first thread only): %d\n", bad))
end
