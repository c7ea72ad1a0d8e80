-- wrk: single push of a 1 KB json body.
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer bench"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"body":{"payload":"' .. string.rep("x", 1000) .. '"},"content_type":"json"}'
