-- wrk: batch push of 100 small messages (path: .../messages/batch).
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer bench"
wrk.headers["Content-Type"] = "application/json"
local messages = {}
for i = 1, 100 do
  messages[i] = '{"body":"message ' .. i .. '","content_type":"text"}'
end
wrk.body = '{"messages":[' .. table.concat(messages, ",") .. ']}'
