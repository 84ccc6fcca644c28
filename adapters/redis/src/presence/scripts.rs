//! The presence board's Lua scripts: each call is one script, so what it reads and writes is
//! one atomic step on the server, timed by the server's clock (`TIME`), whatever the
//! instances' clocks say. Keys, under the prefix `ARGV[1]` (`confab:presence:`):
//!
//! - `instances`: a sorted set, instance id → when it last kept alive (ms; 0: closed).
//! - `on:<instance>`: a sorted set per instance, user id → 0 (connected there) or when their
//!   last socket there closed (ms). Expires unless its instance keeps alive.
//! - `user:<user id>`: a hash, `on` (1/0) and `at` (ms): the last announcement. An online one
//!   is kept; an offline one expires after `forget_after`.
//!
//! The scripts name these keys themselves (they depend on what they read), so the board
//! needs a single Redis server, not a cluster. Nothing here may loop over more than the
//! users it was given, the instances, and the entries of the dead instances it adopts.

/// Shared by every script: the server's time, and one user's reading as four numbers —
/// kind (0 unseen, 1 connected, 2 away), away since (ms), last announced `on` (-1: never),
/// and when (ms).
const PRELUDE: &str = r"
local P = ARGV[1]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function instances()
  return redis.call('ZRANGE', P .. 'instances', 0, -1)
end
local function reading(insts, u)
  local kind, since = 0, 0
  for _, i in ipairs(insts) do
    local s = redis.call('ZSCORE', P .. 'on:' .. i, u)
    if s then
      s = tonumber(s)
      if s == 0 then
        kind = 1
      elseif kind ~= 1 and s > since then
        kind = 2
        since = s
      end
    end
  end
  if kind == 1 then since = 0 end
  local rec = redis.call('HMGET', P .. 'user:' .. u, 'on', 'at')
  local on, at = -1, 0
  if rec[1] then
    on = tonumber(rec[1])
    at = tonumber(rec[2]) or 0
  end
  return {kind, since, on, at}
end
";

/// ARGV: prefix, instance, dead_after (ms), ttl (ms). Registers the instance; adopts the
/// entries of at most 16 instances silent for `dead_after` (connected → away since their
/// last keep-alive; the later time wins; an own connected entry stays). Returns
/// `{'1' if it was registered else '0', adopted user ids...}`.
const KEEP_ALIVE: &str = r"
local reg = P .. 'instances'
local me = ARGV[2]
local mine = P .. 'on:' .. me
local ttl = tonumber(ARGV[4])
local now = now_ms()
local known = redis.call('ZSCORE', reg, me)
redis.call('ZADD', reg, now, me)
redis.call('PEXPIRE', reg, ttl)
redis.call('PEXPIRE', mine, ttl)
local out = {known and '1' or '0'}
local dead = redis.call('ZRANGEBYSCORE', reg, '-inf', now - tonumber(ARGV[3]), 'LIMIT', 0, 16)
for _, d in ipairs(dead) do
  if d ~= me then
    local last = tonumber(redis.call('ZSCORE', reg, d))
    if last <= 0 then last = now end
    local theirs = P .. 'on:' .. d
    local entries = redis.call('ZRANGE', theirs, 0, -1, 'WITHSCORES')
    for k = 1, #entries, 2 do
      local u = entries[k]
      local s = tonumber(entries[k + 1])
      if s == 0 then s = last end
      local m = redis.call('ZSCORE', mine, u)
      if not m or (tonumber(m) ~= 0 and s > tonumber(m)) then
        redis.call('ZADD', mine, s, u)
      end
      out[#out + 1] = u
    end
    redis.call('DEL', theirs)
    redis.call('ZREM', reg, d)
  end
end
if #out > 1 then redis.call('PEXPIRE', mine, ttl) end
return out
";

/// ARGV: prefix, instance, ttl (ms), n, then n user ids connected here, then user ids whose
/// last socket here closed now.
const MARK: &str = r"
local mine = P .. 'on:' .. ARGV[2]
local n = tonumber(ARGV[4])
local now = now_ms()
for k = 5, 4 + n do redis.call('ZADD', mine, 0, ARGV[k]) end
for k = 5 + n, #ARGV do redis.call('ZADD', mine, now, ARGV[k]) end
redis.call('PEXPIRE', mine, tonumber(ARGV[3]))
return now
";

/// ARGV: prefix, instance, user ids: their away entries here go (connected ones stay).
const RELEASE: &str = r"
local mine = P .. 'on:' .. ARGV[2]
for k = 3, #ARGV do
  local s = redis.call('ZSCORE', mine, ARGV[k])
  if s and tonumber(s) ~= 0 then redis.call('ZREM', mine, ARGV[k]) end
end
return 0
";

/// ARGV: prefix, user ids. Returns `{now, then four numbers per user}`.
const READ: &str = r"
local insts = instances()
local out = {now_ms()}
for k = 2, #ARGV do
  local r = reading(insts, ARGV[k])
  for _, v in ipairs(r) do out[#out + 1] = v end
end
return out
";

/// ARGV: prefix, forget_after (ms), then seven per claim: user, the four numbers of the
/// reading it was judged on, the announcement's `on` (1/0) and `at` (ms). Returns `{now,
/// then five per claim: 1 (won) or 0 and the reading now}`.
const CLAIM: &str = r"
local insts = instances()
local forget = tonumber(ARGV[2])
local out = {now_ms()}
for k = 3, #ARGV - 6, 7 do
  local u = ARGV[k]
  local r = reading(insts, u)
  local same = true
  for j = 1, 4 do
    if r[j] ~= tonumber(ARGV[k + j]) then same = false end
  end
  if same then
    local key = P .. 'user:' .. u
    redis.call('HSET', key, 'on', ARGV[k + 5], 'at', ARGV[k + 6])
    if ARGV[k + 5] == '1' then
      redis.call('PERSIST', key)
    else
      redis.call('PEXPIRE', key, forget)
    end
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
  for _, v in ipairs(r) do out[#out + 1] = v end
end
return out
";

/// ARGV: prefix, instance. Marks the instance for adoption at once (its time becomes 0).
const CLOSE: &str = r"
local reg = P .. 'instances'
if redis.call('ZSCORE', reg, ARGV[2]) then redis.call('ZADD', reg, 0, ARGV[2]) end
return 0
";

/// The scripts, each with the prelude.
pub(super) struct Scripts {
    pub keep_alive: redis::Script,
    pub mark: redis::Script,
    pub release: redis::Script,
    pub read: redis::Script,
    pub claim: redis::Script,
    pub close: redis::Script,
}

impl Scripts {
    pub(super) fn new() -> Self {
        let with_prelude = |body: &str| redis::Script::new(&format!("{PRELUDE}{body}"));
        Self {
            keep_alive: with_prelude(KEEP_ALIVE),
            mark: with_prelude(MARK),
            release: with_prelude(RELEASE),
            read: with_prelude(READ),
            claim: with_prelude(CLAIM),
            close: with_prelude(CLOSE),
        }
    }
}
