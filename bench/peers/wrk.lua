-- wrk script of the peer benchmark (bench/peers/run.sh): every request POSTs the JSON body in the file
-- named by PEERS_BODY, with the header "Authorization: <PEERS_AUTH>" when that is set. At the end it
-- prints one RESULT line the script reads (latencies in microseconds).
wrk.method = "POST"
local f = assert(io.open(os.getenv("PEERS_BODY"), "rb"))
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("PEERS_AUTH")
if auth and auth ~= "" then
	wrk.headers["Authorization"] = auth
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"RESULT requests=%d duration_us=%d bytes=%d p50_us=%d p99_us=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
		summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(99),
		e.connect, e.read, e.write, e.status, e.timeout))
end
