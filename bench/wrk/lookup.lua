-- A customer looked up by e-mail, a random one of the bench's customers each time.
local customers = tonumber(os.getenv("CUSTOMERS") or "20000")
local token = os.getenv("TOKEN") or ""
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(17 + thread_id)
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  local path = string.format("/api/v1/customers/lookup?email=client%d%%40example.fr",
    math.random(0, customers - 1))
  return wrk.format("GET", path)
end
