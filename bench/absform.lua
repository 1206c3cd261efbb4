-- absform.lua: make wrk load a forward proxy.
--
-- Through a proxy, wrk connects to the proxy's address and every request
-- carries the absolute-form target (RFC 9112 3.2.2), with Host set from it:
--   wrk -s absform.lua http://127.0.0.1:PROXY/ -- http://127.0.0.1:ORIGIN/small
-- Direct, the first argument is empty and the second is the path:
--   wrk -s absform.lua http://127.0.0.1:ORIGIN/ -- "" /small
-- A third argument, if given, is sent as Proxy-Authorization (a login).
-- At the end one line "BENCH key=value ..." gives bench.py the numbers.

function init(args)
	local target = args[1]
	if target ~= nil and target ~= "" then
		wrk.path = target
		wrk.headers["Host"] = string.match(target, "^http://([^/]+)")
	else
		wrk.path = args[2] or "/"
	end
	if args[3] ~= nil and args[3] ~= "" then
		wrk.headers["Proxy-Authorization"] = args[3]
	end
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("BENCH requests=%d duration_us=%d bytes=%d " ..
	    "non2xx=%d timeout=%d connect=%d read=%d write=%d p99_us=%d\n",
	    summary.requests, summary.duration, summary.bytes, e.status,
	    e.timeout, e.connect, e.read, e.write, latency:percentile(99)))
end
