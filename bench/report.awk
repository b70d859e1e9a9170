# bench/report.awk - turn the RESULT lines of one bench/run into the markdown
# table of bench/RESULTS.md: measure, sbems, anchor, ratio, target.
#
# Input: lines "RESULT name=<id> value=<number> unit=<unit>" (other lines are
# ignored).  The rows below name which results they pair.  The ratio is
# always "how many times better sbems is": sbems / anchor for rates,
# anchor / sbems for costs (bytes, milliseconds), so > 1 favours sbems.
# A missing value prints as "n/a" (program not built or not run).

function commas(s,   neg, i, f) {
    neg = (s ~ /^-/); if (neg) s = substr(s, 2)
    i = s; f = ""
    if (index(s, ".")) { i = substr(s, 1, index(s, ".") - 1); f = substr(s, index(s, ".")) }
    while (length(i) > 3) { f = "," substr(i, length(i) - 2) f; i = substr(i, 1, length(i) - 3) }
    return (neg ? "-" : "") i f
}

# Numbers: integers with thousands separators; small values with 2-3 digits.
function fmt(v, kind) {
    if (v == "") return "n/a"
    if (kind == "int") return commas(sprintf("%.0f", v))
    if (kind == "mb") return sprintf("%.1f MiB", v / 1048576)
    if (v < 1) return sprintf("%.3f", v)
    if (v < 10) return sprintf("%.2f", v)
    if (v < 100) return sprintf("%.1f", v)
    return commas(sprintf("%.0f", v))
}

function ratio(r) {
    if (r >= 100) return commas(sprintf("%.0f", r)) "x"
    if (r >= 10) return sprintf("%.1fx", r)
    return sprintf("%.2fx", r)
}

# One table row.  dir: "up" (higher is better) or "down".  tval: the sbems
# target (empty: none); tratio: the target ratio to the anchor (empty: none).
function row(label, sb, an, alabel, dir, kind, tval, tratio, ttext,   s, a, r, ok, st) {
    s = (sb in val) ? val[sb] : ""
    a = (an in val) ? val[an] : ""
    r = ""
    if (s != "" && a != "" && s + 0 > 0 && a + 0 > 0)
        r = (dir == "up") ? s / a : a / s
    st = ""
    if (ttext != "" && s != "") {
        ok = 1
        if (tval != "") ok = (dir == "up") ? (s + 0 >= tval + 0) : (s + 0 <= tval + 0)
        if (tratio != "") ok = ok && r != "" && r + 0 >= tratio + 0
        st = ok ? " - met" : " - **missed**"
    }
    printf "| %s | %s | %s | %s | %s |\n", label, fmt(s, kind),
        (a == "" ? (an == "" ? "-" : "n/a") : fmt(a, kind) " (" alabel ")"),
        (r == "" ? "-" : ratio(r)), (ttext == "" ? "-" : ttext st)
}

/^RESULT / {
    name = ""; value = ""
    for (i = 2; i <= NF; i++) {
        split($i, kv, "=")
        if (kv[1] == "name") name = kv[2]
        else if (kv[1] == "value") value = kv[2]
        else if (kv[1] == "unit") unit[name] = kv[2]
    }
    if (name != "") { val[name] = value; order[++n] = name }
}

END {
    print "| measure | sbems | anchor | ratio | target |"
    print "|---|---|---|---|---|"
    row("durable ingest, readings/s (last ticket durable + final seal)", "sb_ingest_per_s",
        "pg_copy_rows_per_s", "PostgreSQL binary COPY", "up", "int", 1500000, 5,
        ">= 1,500,000/s and >= 5x PostgreSQL")
    row("durable ingest, readings/s (last ticket durable, before final seal)",
        "sb_ingest_nofl_per_s", "pg_copy_rows_per_s", "PostgreSQL binary COPY", "up", "int")
    row("durable ingest, readings/s (last ticket durable + final seal)", "sb_ingest_per_s",
        "sqlite_rows_per_s", "plain SQLite inserts", "up", "int")
    row("bytes/reading, site mix", "sb_site_bytes_per_reading", "pg_bytes_per_row",
        "PostgreSQL table + index", "down", "num", 2, "", "<= 2")
    row("bytes/reading, site mix", "sb_site_bytes_per_reading", "sqlite_bytes_per_row",
        "SQLite table + index", "down", "num", 2, "", "<= 2")
    row("bytes/reading, temperatures 0.1 degC / 60 s", "sb_temp_bytes_per_reading", "", "",
        "down", "num", 2, "", "<= 2")
    row("bytes/reading, meters kW 0.1 + kWh 0.01 / 15 s", "sb_meter_bytes_per_reading", "", "",
        "down", "num", 2, "", "<= 2")
    q["year_hourly"] = "one point's year, hourly"; t["year_hourly"] = 5
    q["all_day_hourly"] = "1,000 points' last day, hourly"; t["all_day_hourly"] = 20
    q["zones_raw"] = "50 zone temperatures, 24 h raw"; t["zones_raw"] = ""
    q["energy_daily"] = "energy per day for a year (counter)"; t["energy_daily"] = 5
    split("year_hourly all_day_hourly zones_raw energy_daily", qs, " ")
    for (i = 1; i <= 4; i++) {
        k = qs[i]
        row(q[k] ", p50 ms", "sb_q_" k "_p50_ms", "pg_q_" k "_p50_ms", "PostgreSQL raw rows",
            "down", "num")
        row(q[k] ", p99 ms", "sb_q_" k "_p99_ms", "pg_q_" k "_p99_ms", "PostgreSQL raw rows",
            "down", "num", t[k], "", (t[k] == "" ? "" : "<= " t[k] " ms"))
    }
    # sbems on its PostgreSQL backend (issue 11): the same programs, the same
    # server as the anchor, in the same run.
    row("PostgreSQL backend: durable ingest, readings/s (last ticket durable + final seal)",
        "sbpg_ingest_per_s", "pg_copy_rows_per_s", "PostgreSQL binary COPY, row per reading",
        "up", "int", 200000, "", ">= 200,000/s")
    row("PostgreSQL backend: durable ingest, readings/s (last ticket durable, before final seal)",
        "sbpg_ingest_nofl_per_s", "pg_copy_rows_per_s", "PostgreSQL binary COPY, row per reading",
        "up", "int")
    row("PostgreSQL backend: bytes/reading, site mix", "sbpg_site_bytes_per_reading",
        "pg_bytes_per_row", "PostgreSQL table + index", "down", "num")
    for (i = 1; i <= 4; i++) {
        k = qs[i]
        row("PostgreSQL backend: " q[k] ", p50 ms", "sbpg_q_" k "_p50_ms", "pg_q_" k "_p50_ms",
            "PostgreSQL raw rows", "down", "num")
        row("PostgreSQL backend: " q[k] ", p99 ms", "sbpg_q_" k "_p99_ms", "pg_q_" k "_p99_ms",
            "PostgreSQL raw rows", "down", "num")
    }
    row("RSS, store + pipeline + 10,000 points under a trickle (peak, VmHWM)", "sb_rss_hwm_bytes",
        "", "", "down", "mb", 104857600, "", "<= 100 MiB")
    row("RSS, the sbems daemon holding 10,000 points with a day of data (VmHWM)",
        "sb_daemon_hwm_bytes", "", "", "down", "mb", 104857600, "", "<= 100 MiB")
    row("RSS, the same daemon's first start (creates the admin: one argon2id hash, 64 MiB) (VmHWM)",
        "sb_daemon_first_start_hwm_bytes", "", "", "down", "mb", "", "", "")
    print ""
    print "<details><summary>All measures of this run</summary>"
    print ""
    for (i = 1; i <= n; i++)
        printf "    %-40s %14s %s\n", order[i], val[order[i]], unit[order[i]]
    print ""
    print "</details>"
}
