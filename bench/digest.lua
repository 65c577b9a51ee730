-- wrk script: every request carries a fresh RFC 7616 Digest response
-- (algorithm MD5 or SHA-256, qop=auth), computed with libcrypto's EVP_Digest
-- through LuaJIT's FFI, so the server verifies a new hash each time.
--   wrk -tT ... -s bench/digest.lua URL -- T ALG USER PASSWORD REALM NONCE OPAQUE [NONCE OPAQUE]...
-- ALG is MD5 or SHA-256, the algorithm of the server's challenge; "none"
-- sends plain GETs without credentials (the anonymous baseline, no further
-- arguments). The nonces come from 401 challenges fetched by
-- bench/digest.sh, several per connection: wrk thread t takes pairs t, t+T,
-- t+2T... and uses them in turn, each with its own nonce-count from 1. No
-- count is sent twice for one nonce, and as each nonce has at most one
-- request in flight, the counts reach a server nearly in order (guised
-- refuses counts more than 64 behind the highest seen, with stale=true). An
-- OPAQUE of "-" means the challenge had none.
local ffi = require("ffi")
ffi.cdef [[
typedef struct evp_md_st EVP_MD;
const EVP_MD *EVP_md5(void);
const EVP_MD *EVP_sha256(void);
int EVP_Digest(const void *data, size_t count, unsigned char *md, unsigned int *size,
               const EVP_MD *type, void *impl);
]]
local crypto = ffi.load("libcrypto.so.3")
local md = ffi.new("unsigned char[64]")
local mdlen = ffi.new("unsigned int[1]")

local evp_md -- EVP_md5() or EVP_sha256(), chosen by init()

-- Hex through a byte buffer: a string.format per byte made the client, which
-- shares the machine's cores with the server, spend more CPU per request
-- than the server it measures.
local hexbuf = ffi.new("char[129]")
local hexdigits = ffi.new("const char[17]", "0123456789abcdef")

local function hexdigest(s)
    assert(crypto.EVP_Digest(s, #s, md, mdlen, evp_md, nil) == 1)
    local n = mdlen[0]
    for i = 0, n - 1 do
        local b = md[i]
        hexbuf[2 * i] = hexdigits[bit.rshift(b, 4)]
        hexbuf[2 * i + 1] = hexdigits[bit.band(b, 15)]
    end
    return ffi.string(hexbuf, 2 * n)
end

-- setup() runs in the main Lua state for each thread, just before that
-- thread's init(): it numbers the threads.
local threads = 0
function setup(thread)
    thread:set("tid", threads)
    threads = threads + 1
end

local alg, user, realm, ha1, ha2, path, cnonce_base
local nonces, opaques, counts = {}, {}, {}
local turn = 0

function init(args)
    local nthreads = tonumber(args[1])
    alg = args[2]
    path = wrk.path
    if alg == "none" then
        return
    elseif alg == "MD5" then
        evp_md = crypto.EVP_md5()
    elseif alg == "SHA-256" then
        evp_md = crypto.EVP_sha256()
    else
        error("algorithm " .. tostring(alg) .. ": MD5, SHA-256 or none")
    end
    user, realm = args[3], args[5]
    local pairs_given = (#args - 5) / 2
    local k = tid
    while k < pairs_given do
        nonces[#nonces + 1] = args[6 + 2 * k]
        opaques[#opaques + 1] = args[7 + 2 * k]
        counts[#counts + 1] = 0
        k = k + nthreads
    end
    assert(#nonces > 0, "at least one NONCE OPAQUE pair per wrk thread is needed")
    ha1 = hexdigest(user .. ":" .. realm .. ":" .. args[4])
    ha2 = hexdigest("GET:" .. path)
    cnonce_base = string.format("%08x%04x", os.time(), tid)
end

function request()
    if alg == "none" then
        return wrk.format("GET", path)
    end
    turn = turn % #nonces + 1
    local nc = counts[turn] + 1
    counts[turn] = nc
    local nonce, opaque = nonces[turn], opaques[turn]
    local ncs = string.format("%08x", nc)
    local cnonce = string.format("%s%04x%s", cnonce_base, turn, ncs)
    local resp = hexdigest(ha1 .. ":" .. nonce .. ":" .. ncs .. ":" .. cnonce .. ":auth:" .. ha2)
    local h = string.format('Digest username="%s", realm="%s", nonce="%s", uri="%s", ' ..
        'algorithm=%s, response="%s", qop=auth, nc=%s, cnonce="%s"',
        user, realm, nonce, path, alg, resp, ncs, cnonce)
    if opaque ~= "-" then
        h = h .. string.format(', opaque="%s"', opaque)
    end
    return wrk.format("GET", path, { ["Authorization"] = h })
end

-- done(): the machine-readable summary line of report.lua, next to this file.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
