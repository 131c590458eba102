-- The reference: the health check (one SELECT 1).
function request()
  return wrk.format("GET", "/sante/")
end
