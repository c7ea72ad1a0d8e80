-- wrk: single push of a small text message.
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer bench"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"body":"hello","content_type":"text"}'
