-- wrk: pull 100, then acknowledge what came, in a loop. The path is the
-- queue's messages path; each thread alternates between pull and ack.
local base = nil
local pending = nil

function init(args)
  base = wrk.path
end

function request()
  local headers = { ["Authorization"] = "Bearer bench", ["Content-Type"] = "application/json" }
  if pending ~= nil then
    local body = pending
    pending = nil
    return wrk.format("POST", base .. "/ack", headers, body)
  end
  return wrk.format("POST", base .. "/pull", headers, '{"batch_size":100,"visibility_timeout_ms":600000}')
end

function response(status, headers, body)
  local acks = {}
  for lease in string.gmatch(body, '"lease_id":"([^"]+)"') do
    acks[#acks + 1] = '{"lease_id":"' .. lease .. '"}'
  end
  if #acks > 0 then
    pending = '{"acks":[' .. table.concat(acks, ",") .. ']}'
  end
end
