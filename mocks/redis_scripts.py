"""The Lua scripts of ``RedisStore``: each settles one race inside Redis, atomically.

Keys of a session (``redis_store.py`` names them): ``BASE`` a hash (``created_at``,
``touched_at``, ``secret``, ``plan``, ``plan_v``, ``step``, ``seq``, ``dropped``), ``BASE:journal``
a list, ``BASE:state`` and ``BASE:counters`` hashes. ``BASE`` carries the session's TTL; every
script that creates one of the others copies that TTL onto it, so Redis expires them together.
"""

from __future__ import annotations

#: Copy the session hash's TTL (KEYS[1]) onto another of its keys.
_SAME_TTL = """
local function same_ttl(key)
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
end
"""
#: KEYS: hash, journal, state, counters, index; ARGV: id, now, ttl_s, ttl_ms, is_default.
TOUCH = """
if ARGV[5] == '1' then
  redis.call('HSETNX', KEYS[1], 'created_at', 0)
  return redis.call('HMGET', KEYS[1], 'created_at', 'secret', 'plan_v')
end
local touched = redis.call('HGET', KEYS[1], 'touched_at')
if not touched then
  redis.call('ZREM', KEYS[5], ARGV[1])
  return false
end
if tonumber(ARGV[2]) - tonumber(touched) > tonumber(ARGV[3]) then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
  redis.call('ZREM', KEYS[5], ARGV[1])
  return false
end
redis.call('HSET', KEYS[1], 'touched_at', ARGV[2])
redis.call('ZADD', KEYS[5], ARGV[2], ARGV[1])
for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
return redis.call('HMGET', KEYS[1], 'created_at', 'secret', 'plan_v')
"""
#: KEYS: index; ARGV: cutoff, limit, key prefix of sessions. Hex ids, as ``redis_store._hex``.
SWEEP = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do
  local base = ARGV[3] .. (id:gsub('.', function(c) return string.format('%02x', c:byte()) end))
  redis.call('DEL', base, base .. ':journal', base .. ':state', base .. ':counters')
  redis.call('ZREM', KEYS[1], id)
end
return ids
"""
#: KEYS: hash; ARGV: plan JSON or '', is_default, a fresh version token. 0: unknown session.
SET_PLAN = """
if ARGV[2] == '1' then redis.call('HSETNX', KEYS[1], 'created_at', 0) end
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'plan', ARGV[1], 'step', 0, 'plan_v', ARGV[3])
return 1
"""
#: KEYS: hash. -1 when the session is unknown.
TAKE_STEP = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('HINCRBY', KEYS[1], 'step', 1) - 1
"""
#: KEYS: hash, journal; ARGV: entry JSON, limit. The entry's seq, 0 when the session is gone.
APPEND = (
    _SAME_TTL
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local entry = string.sub(ARGV[1], 1, -2) .. ',"seq":' .. seq .. '}'
local n = redis.call('RPUSH', KEYS[2], entry)
local limit = tonumber(ARGV[2])
if n > limit then
  redis.call('LTRIM', KEYS[2], n - limit, -1)
  redis.call('HINCRBY', KEYS[1], 'dropped', n - limit)
end
same_ttl(KEYS[2])
return seq
"""
)
#: KEYS: hash, journal; ARGV: entry JSON, seq, received_at.
FINISH = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local seq = tonumber(ARGV[2])
local n = redis.call('LLEN', KEYS[2])
local index = n - 1 - (tonumber(redis.call('HGET', KEYS[1], 'seq') or '0') - seq)
if index < 0 or index >= n then return 0 end
local kept = cjson.decode(redis.call('LINDEX', KEYS[2], index))
if kept.in_flight ~= true or math.abs(kept.received_at - tonumber(ARGV[3])) > 1e-6 then
  return 0
end
redis.call('LSET', KEYS[2], index, string.sub(ARGV[1], 1, -2) .. ',"seq":' .. seq .. '}')
return 1
"""
#: KEYS: hash, state; ARGV: provider, data. Not for a session that ended meanwhile.
SAVE_STATE = (
    _SAME_TTL
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
same_ttl(KEYS[2])
return 1
"""
)
#: KEYS: hash, counters, loose counter; ARGV: field, window, loose TTL s, add (1) or peek (0).
#: A session's counter is one field ``window:count`` of its counters hash; a key of no session
#: (the session ended) counts in a loose key that expires with its window.
HIT = (
    _SAME_TTL
    + """
local add = tonumber(ARGV[4])
if redis.call('EXISTS', KEYS[1]) == 0 then
  if add == 0 then return tonumber(redis.call('GET', KEYS[3]) or '0') end
  local count = redis.call('INCR', KEYS[3])
  redis.call('EXPIRE', KEYS[3], tonumber(ARGV[3]))
  return count
end
local count = 0
local kept = redis.call('HGET', KEYS[2], ARGV[1])
if kept then
  local window, n = string.match(kept, '^(.-):(%d+)$')
  if window == ARGV[2] then count = tonumber(n) end
end
if add == 0 then return count end
count = count + 1
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. ':' .. count)
same_ttl(KEYS[2])
return count
"""
)
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
