-- One activity per request, each with its own reference (external_id): every POST creates.
-- CUSTOMERS (the customers C0 … C<n-1> of the bench), TOKEN and RUN come from the environment.
local customers = tonumber(os.getenv("CUSTOMERS") or "20000")
local run = os.getenv("RUN") or "r"
local token = os.getenv("TOKEN") or ""
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(11 + thread_id)
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"customer_external_id":"C%d","kind":"visit","starts_on":"2026-0%d-%02d","amount":"12.50","external_id":"S%s-%d-%d"}',
    math.random(0, customers - 1), 1 + counter % 3, 1 + counter % 28, run, thread_id, counter)
  return wrk.format(nil, "/api/v1/activities", nil, body)
end
