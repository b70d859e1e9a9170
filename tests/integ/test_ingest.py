"""Import the example site, backfill readings with the CLI, read them back.

Expected rollups are computed here in Python from the same readings (hours
and local days via zoneinfo), independently of the C code.
"""
import json
import math
import os
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from conftest import SITE

NY = ZoneInfo("America/New_York")
START = datetime(2026, 10, 30, 0, 0, tzinfo=timezone.utc)   # spans the 2026-11-01 DST end


def ms(dt):
    return int(dt.timestamp() * 1000)


def iso(t_ms):
    return datetime.fromtimestamp(t_ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def make_rows(minutes=4 * 1440):
    temp, energy, power = [], [], []
    reg = 9_999_000.0          # the main meter rolls over at 10,000,000 kWh
    for i in range(minutes):
        t = ms(START) + i * 60000
        temp.append((t, round(21 + 2 * math.sin(i / 229.0) + (i % 7) * 0.1, 1)))
        kw = round(40 + 15 * math.sin(i / 300.0), 1)
        power.append((t, kw))
        reg += kw / 60
        energy.append((t, round(reg % 10_000_000, 2)))
    return temp, energy, power


def write_long_csv(path, series):
    with open(path, "w") as f:
        f.write("point,time,value\n")
        for name, rows in series.items():
            for t, v in rows:
                f.write(f"{name},{iso(t)},{v}\n")


def power_point():
    doc = json.load(open(SITE))
    return next(p["id"] for p in doc["points"] if p["kind"] == "power")


def test_import_export_roundtrip(sbems, tmp_path):
    p = sbems.run("import", SITE)
    assert "points" in p.stdout
    out1 = sbems.run("export").stdout
    doc = json.loads(out1)
    assert len(doc["points"]) == len(json.load(open(SITE))["points"])
    # importing the export again changes nothing
    f = tmp_path / "again.json"
    f.write_text(out1)
    sbems.run("import", str(f))
    assert sbems.run("export").stdout == out1


def test_import_rejects_bad_document(sbems, tmp_path):
    sbems.run("import", SITE)
    for field, value in ((("points", 0, "unit"), "furlongs"),
                         (("buildings", 0, "timezone"), "Mars/Olympus_Mons")):
        doc = json.load(open(SITE))
        doc[field[0]][field[1]][field[2]] = value
        f = tmp_path / "bad.json"
        f.write_text(json.dumps(doc))
        p = sbems.run("import", str(f), check=False)
        assert p.returncode != 0
        assert value in p.stderr and "nothing was changed" in p.stderr
    # the stored model is unchanged
    assert json.loads(sbems.run("export").stdout)["buildings"][0]["timezone"] == "America/New_York"


def test_ingest_query_and_rollups(site, tmp_path):
    temp, energy, power = make_rows()
    pw = power_point()
    csv = tmp_path / "trend.csv"
    write_long_csv(csv, {"ahu-1.sat": temp, "meter-main.energy": energy, pw: power})
    p = site.run("ingest", str(csv))
    assert "ack readings=%d" % (3 * len(temp)) in p.stdout, p.stdout + p.stderr

    frm, to = iso(ms(START)), iso(ms(START) + 5 * 86400000)
    raw = site.query("ahu-1.sat", "--from", frm, "--to", to)
    assert [(r["ts"], r["v"]) for r in raw] == temp

    # hourly means of the temperature, computed here
    hours = site.query("ahu-1.sat", "--from", frm, "--to", to, "--res", "1h")
    want = {}
    for t, v in temp:
        want.setdefault(t - t % 3600000, []).append(v)
    assert len(hours) == len(want)
    for h in hours:
        vals = want[h["ts"]]
        assert h["n"] == len(vals)
        assert abs(h["value"] - sum(vals) / len(vals)) < 1e-9
        assert h["min"] == min(vals) and h["max"] == max(vals)

    # daily consumption in local days (one is 25 h long), across the rollover
    days = site.query("meter-main.energy", "--from", frm, "--to", to, "--res", "1d")
    per_day = {}
    for (t0, v0), (t1, v1) in zip(energy, energy[1:]):
        d = datetime.fromtimestamp(t1 / 1000, NY).date()
        inc = v1 - v0 if v1 >= v0 else 10_000_000 - v0 + v1
        per_day[d] = per_day.get(d, 0) + inc
    assert len(days) == len(per_day)
    for d in days:
        local = datetime.fromtimestamp(d["ts"] / 1000, NY)
        assert local.hour == 0 and local.minute == 0          # local midnight
        assert abs(d["value"] - per_day[local.date()]) < 1e-6
    lengths = [b["ts"] - a["ts"] for a, b in zip(days, days[1:])]
    assert 25 * 3600000 in lengths                              # 2026-11-01

    # latest
    last = site.query(pw, "--latest")
    assert last[0]["ts"] == power[-1][0] and last[0]["v"] == power[-1][1]


def test_ingest_rejects_bad_lines_and_keeps_the_rest(site, tmp_path):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    good_t = now - timedelta(hours=1)
    lines = [
        "point,time,value",
        f"ahu-1.sat,{iso(ms(good_t))},20.5",
        f"no-such-point,{iso(ms(good_t))},1",                       # unknown point
        f"ahu-1.sat,{iso(ms(good_t) + 60000)},nan",                   # not finite
        f"ahu-1.sat,{iso(ms(now + timedelta(days=3)))},21",           # future
        f"ahu-1.sat,2026-11-27 10:00:00,21",                          # no zone
        f"ahu-1.sat,{iso(ms(good_t) + 120000)},abc",                  # not a number
        f"ahu-1.sat,{iso(ms(good_t) + 180000)},21.5,stale",          # wrong column count
        f"ahu-1.sat,{iso(ms(good_t) + 240000)},21.0",
    ]
    f = tmp_path / "bad.csv"
    f.write_text("\n".join(lines) + "\n")
    p = site.run("ingest", str(f), check=False)
    assert p.returncode == 3, p.stderr
    assert "not_finite: 1" in p.stderr and "future: 1" in p.stderr
    assert "line 3" in p.stderr and "line 6" in p.stderr and "line 7" in p.stderr
    got = site.query("ahu-1.sat", "--from", "-2h", "--to", "now")
    assert [r["v"] for r in got] == [20.5, 21.0]


def test_wide_csv_and_jsonl(site, tmp_path):
    t0 = ms(START)
    wide = tmp_path / "wide.csv"
    wide.write_text("time,ahu-1.sat,ahu-1.rat\n"
                    f"{iso(t0)},13.1,22.0\n{iso(t0 + 60000)},,22.1\n{t0 + 120000},13.3,22.2\n")
    site.run("ingest", str(wide))
    jl = tmp_path / "r.jsonl"
    jl.write_text(json.dumps({"point": "ahu-1.mat", "t": iso(t0), "v": 17.5, "q": "estimated"})
                  + "\n" + json.dumps({"point": "ahu-1.mat", "time": t0 + 60000, "value": 17.6}) + "\n")
    site.run("ingest", str(jl))
    rng = ("--from", iso(t0), "--to", iso(t0 + 3600000))
    assert [r["v"] for r in site.query("ahu-1.sat", *rng)] == [13.1, 13.3]
    assert [r["v"] for r in site.query("ahu-1.rat", *rng)] == [22.0, 22.1, 22.2]
    mat = site.query("ahu-1.mat", *rng)
    assert [(r["v"], r["q"]) for r in mat] == [(17.5, 8), (17.6, 0)]


def test_duplicates_are_idempotent(site, tmp_path):
    temp, _, _ = make_rows(600)
    f = tmp_path / "t.csv"
    write_long_csv(f, {"ahu-1.sat": temp})
    site.run("ingest", str(f))
    site.run("ingest", str(f))
    rng = ("--from", iso(ms(START)), "--to", iso(ms(START) + 86400000))
    assert len(site.query("ahu-1.sat", *rng)) == 600
    hours = site.query("ahu-1.sat", *rng, "--res", "1h")
    assert sum(h["n"] for h in hours) == 600


def test_backup_is_a_complete_store(site, tmp_path):
    temp, _, _ = make_rows(300)
    f = tmp_path / "t.csv"
    write_long_csv(f, {"ahu-1.sat": temp})
    site.run("ingest", str(f))
    bk = tmp_path / "backup.db"
    site.run("backup", str(bk))
    restored = tmp_path / "restored"
    os.makedirs(restored)
    os.rename(bk, restored / "sbems.db")
    from conftest import Sbems
    r = Sbems(restored)
    got = r.query("ahu-1.sat", "--from", iso(ms(START)), "--to", iso(ms(START) + 86400000))
    assert [(g["ts"], g["v"]) for g in got] == temp
