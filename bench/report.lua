-- wrk summary in one machine-readable line, read by bench/lib.sh:
--   BENCH requests bytes duration_us socket_errors non_2xx_3xx
-- A script that sets its own request() can `dofile` this one for done().
function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("BENCH %d %d %d %d %d\n", summary.requests, summary.bytes,
        summary.duration, e.connect + e.read + e.write + e.timeout, e.status))
end
