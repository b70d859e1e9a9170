# wrk_parse.awk - read the text wrk 4.1 prints with --latency and print
#   rps <requests/s>
#   p50_ms <ms>  p75_ms  p90_ms  p99_ms
#   requests <n>  non2xx <n>  sock_errors <n>  (connect+read+write+timeout)
# one "key value" per line.  wrk prints times with units us, ms, s, m, h
# (its format_time) and two decimals.
function ms(s,   n, u) {
    n = s + 0; u = s; sub(/^[0-9.]+/, "", u)
    if (u == "us") return n / 1000
    if (u == "ms") return n
    if (u == "s")  return n * 1000
    if (u == "m")  return n * 60000
    if (u == "h")  return n * 3600000
    return -1
}
/Latency Distribution/ { dist = 1; next }
dist && $1 ~ /^[0-9.]+%$/ { p = $1; sub(/%$/, "", p); lat[p] = ms($2); next }
/ requests in / { dist = 0; req = $1 }
/Non-2xx or 3xx responses:/ { non2xx = $NF }
/Socket errors:/ { gsub(/,/, ""); serr = $4 + $6 + $8 + $10 }
/^Requests\/sec:/ { rps = $2 }
END {
    if (rps == "") { print "wrk_parse: no Requests/sec line" > "/dev/stderr"; exit 1 }
    print "rps", rps
    for (p in lat) print "p" p "_ms", lat[p]
    print "requests", req + 0
    print "non2xx", non2xx + 0
    print "sock_errors", serr + 0
}
