-- wrk script: Prometheus's own GET /-/healthy, the baseline for get_stack.lua.
wrk.method = "GET"
wrk.path = "/-/healthy"

function done(summary, latency, requests)
  io.write(string.format("requests/s: %.0f\n", summary.requests / (summary.duration / 1e6)))
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("p%g: %.2f ms\n", p, latency:percentile(p) / 1000))
  end
end
