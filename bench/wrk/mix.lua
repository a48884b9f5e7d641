-- wrk script used for every HTTP workload of the benchmark (see bench/bench.py).
--
-- Each request is drawn pseudo-randomly (fixed seed: $BENCH_SEED, default 1) from the templates
-- in $BENCH_TEMPLATES (one per line: name TAB method TAB path TAB accept TAB content-type TAB
-- body, body on one line), and each template's placeholders are filled with a generated claim,
-- entity or document, drawn per request from $BENCH_KEYS (below). Both servers are driven by this
-- same script; only the templates' path differs (/sparql vs /query).
--
-- Every latency is recorded by wrk itself (its latency histogram); done() writes the summary,
-- the percentiles and the count of answers by HTTP status to $BENCH_OUT as JSON.

local base = os.getenv("BENCH_BASE")
local token = os.getenv("BENCH_TOKEN")

local function split(line, sep)
  local fields = {}
  local start = 1
  while true do
    local i = string.find(line, sep, start, true)
    if not i then
      table.insert(fields, string.sub(line, start))
      return fields
    end
    table.insert(fields, string.sub(line, start, i - 1))
    start = i + 1
  end
end

local templates = {}
for line in io.lines(os.getenv("BENCH_TEMPLATES")) do
  if line ~= "" then
    local f = split(line, "\t")
    table.insert(templates, { name = f[1], method = f[2], path = f[3], accept = f[4],
                              ctype = f[5], body = f[6] })
  end
end

-- $BENCH_KEYS (bench.py `write_keys`): per kind a line "KIND COUNT WIDTH", then COUNT keys, each
-- padded with spaces to WIDTH and ended by a newline. Read whole and indexed, not parsed: wrk
-- starts a thread as soon as its copy of this script is loaded, so a slow load here would let
-- the first thread run, untimed, while the next one loads.
local keys = {}
do
  local f = assert(io.open(os.getenv("BENCH_KEYS"), "rb"))
  local data = f:read("*a")
  f:close()
  local at = 1
  while at <= #data do
    local header_end = assert(string.find(data, "\n", at, true))
    local kind, count, width = string.match(string.sub(data, at, header_end - 1), "^(%a+) (%d+) (%d+)$")
    assert(kind, "bad keys header at byte " .. at)
    count, width = tonumber(count), tonumber(width)
    keys[kind] = { data = data, start = header_end + 1, count = count, width = width }
    at = header_end + 1 + count * (width + 1)
  end
  for _, kind in ipairs({ "claim", "entity", "source" }) do
    assert(keys[kind] and keys[kind].count > 0, "no " .. kind .. " keys in $BENCH_KEYS")
  end
end

local function urlencode(s)
  return (string.gsub(s, "[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

-- gsub treats % in a replacement string specially: escape it.
local function lit(s) return (string.gsub(s, "%%", "%%%%")) end

local function pick(list) return list[math.random(#list)] end

local function pick_key(k)
  local from = k.start + (math.random(k.count) - 1) * (k.width + 1)
  return (string.match(string.sub(k.data, from, from + k.width - 1), "^(.-) *$"))
end

local function fill(s, claim, entity, source)
  if not s or s == "" then return s end
  local claim_iri = base .. "claims/" .. claim
  s = string.gsub(s, "@CLAIMKEY@", lit(urlencode(claim)))
  s = string.gsub(s, "@CLAIMENC@", lit(urlencode(claim_iri)))
  s = string.gsub(s, "@CLAIM@", lit("<" .. claim_iri .. ">"))
  s = string.gsub(s, "@ENTITY@", lit("<" .. base .. "entities/" .. entity .. ">"))
  s = string.gsub(s, "@DOC@", lit("<" .. base .. "sources/" .. source .. ">"))
  return s
end

-- Per thread: how many answers of each HTTP status (collected by done() from every thread).
-- A global, not a local: `thread:get` reads a thread's globals (a local read back as nil, and
-- every answer counted as none).
statuses = {}
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  -- The same seed on every run and for both servers: each thread asks the same sequence of
  -- requests, so a mix with a few slow queries weighs the same on both sides.
  math.randomseed(tonumber(os.getenv("BENCH_SEED") or "1") * 1000 + (id or 0))
  statuses = {}
end

function request()
  local t = pick(templates)
  local claim = pick_key(keys.claim)
  local entity = pick_key(keys.entity)
  local source = pick_key(keys.source)
  local headers = {}
  if t.accept ~= "" then headers["Accept"] = t.accept end
  if t.ctype ~= "" then headers["Content-Type"] = t.ctype end
  if token and token ~= "" and t.method == "POST" and t.ctype == "application/sparql-update" then
    headers["Authorization"] = "Bearer " .. token
  end
  local body = nil
  if t.body ~= "" then body = fill(t.body, claim, entity, source) end
  return wrk.format(t.method, fill(t.path, claim, entity, source), headers, body)
end

function response(status, headers, body)
  local k = tostring(status)
  statuses[k] = (statuses[k] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    if s then
      for k, v in pairs(s) do counts[k] = (counts[k] or 0) + v end
    end
  end
  local parts = {}
  for k, v in pairs(counts) do table.insert(parts, string.format('"%s": %d', k, v)) end
  local e = summary.errors
  local out = io.open(os.getenv("BENCH_OUT"), "w")
  out:write(string.format(
    '{"duration_us": %d, "requests": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"min": %d, "mean": %.1f, "p50": %d, "p90": %d, "p99": %d, "p999": %d, "max": %d}, ' ..
    '"statuses": {%s}}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max,
    table.concat(parts, ", ")))
  out:close()
end
