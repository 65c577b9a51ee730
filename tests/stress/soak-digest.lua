-- wrk script of the soak test (tests/stress/soak.sh): every request carries a
-- fresh RFC 7616 Digest response (MD5, qop=auth), hashed with libcrypto's
-- EVP_Digest through LuaJIT's FFI.
--   wrk -tT ... -s soak-digest.lua URL -- T USER PASSWORD REALM NONCE-FILE
-- NONCE-FILE holds one "NONCE OPAQUE" line per connection (from 401
-- challenges). Thread t takes lines t, t+T, t+2T... and uses them in turn,
-- each with its own nonce-count: with as many nonces as connections, about
-- one request per nonce is in flight, so counts reach guised nearly in order
-- (it refuses a count more than 64 behind the highest it has seen).
local ffi = require("ffi")
ffi.cdef [[
typedef struct evp_md_st EVP_MD;
const EVP_MD *EVP_md5(void);
int EVP_Digest(const void *data, size_t count, unsigned char *md, unsigned int *size,
               const EVP_MD *type, void *impl);
]]
local crypto = ffi.load("libcrypto.so.3")
local md = ffi.new("unsigned char[64]")
local mdlen = ffi.new("unsigned int[1]")

local function md5hex(s)
    assert(crypto.EVP_Digest(s, #s, md, mdlen, crypto.EVP_md5(), nil) == 1)
    local out = {}
    for i = 0, mdlen[0] - 1 do
        out[#out + 1] = string.format("%02x", md[i])
    end
    return table.concat(out)
end

-- setup() runs in the main state once per thread, before its init().
local threads = 0
function setup(thread)
    thread:set("tid", threads)
    threads = threads + 1
end

local user, realm, ha1, ha2, path, cnonce_base
local nonces, opaques, counts = {}, {}, {}
local turn = 0

function init(args)
    local nthreads = tonumber(args[1])
    user, realm = args[2], args[4]
    local k = 0
    for line in io.lines(args[5]) do
        local n, o = line:match("^(%S+) (%S+)$")
        if n and k % nthreads == tid then
            nonces[#nonces + 1], opaques[#opaques + 1], counts[#counts + 1] = n, o, 0
        end
        k = k + 1
    end
    assert(#nonces > 0, "no nonce for this thread in " .. args[5])
    path = wrk.path
    ha1 = md5hex(user .. ":" .. realm .. ":" .. args[3])
    ha2 = md5hex("GET:" .. path)
    cnonce_base = string.format("%08x%04x", os.time(), tid)
end

function request()
    turn = turn % #nonces + 1
    local nc = counts[turn] + 1
    counts[turn] = nc
    local nonce, opaque = nonces[turn], opaques[turn]
    local ncs = string.format("%08x", nc)
    local cnonce = string.format("%s%05x%s", cnonce_base, turn, ncs)
    local resp = md5hex(ha1 .. ":" .. nonce .. ":" .. ncs .. ":" .. cnonce .. ":auth:" .. ha2)
    local h = string.format('Digest username="%s", realm="%s", nonce="%s", uri="%s", ' ..
        'algorithm=MD5, response="%s", qop=auth, nc=%s, cnonce="%s", opaque="%s"',
        user, realm, nonce, path, resp, ncs, cnonce, opaque)
    return wrk.format("GET", path, { ["Authorization"] = h })
end
