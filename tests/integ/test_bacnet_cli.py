"""`sbems bacnet` as an integrator uses it, against a device served by
`sbems bacnet serve` on its own 127.0.0.x address, under tshark: RPM of
all properties, WritePropertyMultiple with its first-failure report,
Who-Has by name and by identifier, ReadRange of a trend log page by page
and backfilled into the store through `sbems ingest`, GetEventInformation
and AcknowledgeAlarm, a Schedule's weekly program written and read back,
UTC time synchronisation, and the refusals a user sees."""
import json
import signal
import subprocess
import time

from bacnet_peers import TsharkCapture, capture_unavailable
from conftest import BIN

DEV_IP = "127.0.0.93"
OURS = "127.0.0.1:47820"
DEVICE = {"devices": [{
    "instance": 5001, "name": "VAV-2-05", "vendor_id": 2, "bind": DEV_IP,
    "objects": [
        {"object": "analog-input:1", "name": "Space Temperature", "units": "degrees-celsius",
         "value": 22.0, "wave": {"amplitude": 0.5, "period_s": 30}},
        {"object": "analog-input:2", "name": "Discharge Air Temp", "units": "degrees-celsius",
         "value": 35.0, "alarm": {"high": 30, "low": 5, "deadband": 1}},
        {"object": "analog-value:1", "name": "Space Temperature Setpoint",
         "units": "degrees-celsius", "value": 21.0, "commandable": True},
        {"object": "trend-log:1", "name": "Space Temperature Trend", "source": "analog-input:1",
         "interval_s": 1, "buffer_size": 500},
        {"object": "schedule:1", "name": "Occupancy Schedule", "default": 16.0},
        {"object": "calendar:1", "name": "Holidays"}]}]}

SITE = {"format": "sbems-site", "version": 1, "sites": [{"id": "s", "name": "S"}],
        "buildings": [{"id": "b", "site": "s", "name": "B", "timezone": "UTC"}], "zones": [],
        "equipment": [{"id": "vav", "building": "b", "name": "VAV", "type": "vav"}],
        "points": [{"id": "vav.t", "equipment": "vav", "name": "T", "kind": "temperature",
                    "unit": "°C"}]}


def bac(*args, check=True):
    p = subprocess.run([BIN, "bacnet", *args, "--bind", OURS, "--target", DEV_IP,
                        "--timeout-ms", "1000"], capture_output=True, text=True, timeout=60)
    if check:
        assert p.returncode == 0, (args, p.stdout, p.stderr)
    return p


def js(*args, **kw):
    return json.loads(bac(*args, **kw).stdout)


def test_bacnet_cli(sbems, tmp_path):
    f = tmp_path / "dev.json"
    f.write_text(json.dumps(DEVICE))
    cap = None if capture_unavailable() else TsharkCapture(ports=(47808, 47820),
                                                           path=tmp_path / "cli.pcapng",
                                                           hosts=(DEV_IP,))
    if cap:
        cap.__enter__()
    srv = subprocess.Popen([BIN, "bacnet", "serve", str(f)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        assert '"ready"' in srv.stdout.readline()

        props = js("read", "analog-value:1", "all")["properties"]
        assert props["object-name"] == "Space Temperature Setpoint"
        assert props["units"] == 62 and len(props["priority-array"]) == 16
        assert js("read", "analog-value:1", "present-value,units")["properties"] == {
            "present-value": 21.0, "units": 62}

        # WPM: writes before the failure stay (clause 15.10), the failure is named
        p = bac("wpm", "analog-value:1", "present-value=19.5@9", "analog-input:99",
                "present-value=1", check=False)
        assert p.returncode == 1 and '"first_failed": "analog-input:99"' in p.stdout, p.stdout
        assert js("read", "analog-value:1")["value"] == 19.5
        assert js("read", "analog-value:1", "priority-array")["value"][8] == 19.5
        assert js("wpm", "analog-value:1", "present-value=null@9")["result"] == "ok"
        assert js("read", "analog-value:1")["value"] == 21.0

        found = js("whohas", "Space Temperature", "--wait-ms", "500")["found"]
        assert found == [{"device": 5001, "address": f"{DEV_IP}:47808",
                          "object": "analog-input:1", "name": "Space Temperature"}]
        assert js("whohas", "schedule:1", "--wait-ms", "500")["found"][0]["name"] == "Occupancy Schedule"
        assert bac("whohas", "No Such Thing", "--wait-ms", "300", check=False).returncode == 1

        # the trend log, page by page, and backfilled into the store
        time.sleep(4)
        tr = js("trend", "trend-log:1", "--count", "2", "--all")
        assert tr["count"] >= 4 and tr["pages"] >= 2
        ts = [r["time"] for r in tr["records"]]
        assert ts == sorted(ts) and len(set(ts)) == len(ts)
        lines = bac("trend", "trend-log:1", "--all", "--jsonl", "--point", "vav.t").stdout.splitlines()
        assert len(lines) >= 4 and all(json.loads(x)["point"] == "vav.t" for x in lines)
        doc = tmp_path / "site.json"
        doc.write_text(json.dumps(SITE))
        sbems.run("import", str(doc))
        sbems.run("ingest", "-", "--format", "jsonl", "--units", "source",
                  "--set", "retention.raw=0", stdin="\n".join(lines) + "\n")
        stored = sbems.query("vav.t", "--from", "2000-01-01T00:00:00Z")
        assert len(stored) == len(lines)
        assert all(21.4 < r["v"] < 22.6 for r in stored), stored[:2]

        # alarms: the discharge air is above its high limit; acknowledge it
        ev = js("events")["events"]
        assert [e["object"] for e in ev] == ["analog-input:2"] and ev[0]["event_state"] == 3
        assert ev[0]["acked_transitions"] & 1 == 0             # to-offnormal not acked
        assert js("ack", "analog-input:2")["result"] == "acknowledged"
        assert js("events")["events"][0]["acked_transitions"] & 1 == 1

        # a weekly program written and read back; bad input refused before sending
        wk = tmp_path / "week.json"
        wk.write_text(json.dumps({"monday": [{"time": "07:00", "value": 21.5},
                                             {"time": "18:00", "value": None}],
                                  "friday": [{"time": "08:00", "value": 22}]}))
        assert js("schedule", "schedule:1", "--set", str(wk))["result"] == "ok"
        got = js("schedule", "schedule:1")
        assert got["weekly"]["monday"] == [{"time": "07:00", "value": 21.5},
                                           {"time": "18:00", "value": None}]
        assert got["weekly"]["tuesday"] == [] and got["default"] == 16.0
        wk.write_text(json.dumps({"monday": [{"time": "25:00", "value": 1}]}))
        p = bac("schedule", "schedule:1", "--set", str(wk), check=False)
        assert p.returncode == 2 and "monday[0]" in p.stderr

        # a calendar's dates written and read back
        cal = tmp_path / "cal.json"
        cal.write_text(json.dumps({"dates": ["2026-12-25", {"from": "2026-12-24", "to": "2026-12-31"}]}))
        assert js("calendar", "calendar:1", "--set", str(cal))["result"] == "ok"
        assert js("calendar", "calendar:1")["dates"] == [
            "2026-12-25", {"from": "2026-12-24", "to": "2026-12-31"}]
        cal.write_text(json.dumps({"dates": ["2026-13-01"]}))
        assert bac("calendar", "calendar:1", "--set", str(cal), check=False).returncode == 2

        assert js("timesync", "--utc")["result"] == "sent"

        # refusals are data, with the device's words
        p = bac("read", "analog-input:7", check=False)
        assert p.returncode == 1 and "unknown-object" in p.stdout
        p = bac("write", "analog-input:1", "30", check=False)
        assert p.returncode == 1 and "write-access-denied" in p.stdout
        p = bac("read", "nonsense:1", check=False)
        assert p.returncode == 2
    finally:
        srv.send_signal(signal.SIGTERM)
        srv.wait(timeout=10)
        if cap:
            cap.__exit__(None, None, None)
    if cap:
        cap.assert_clean(min_bacnet=20)


def test_discover_then_import(sbems, tmp_path):
    """The command-line way to accept a discovery: a site document of the
    proposals, reviewed (here: one point dropped), then imported."""
    f = tmp_path / "dev.json"
    f.write_text(json.dumps(DEVICE))
    srv = subprocess.Popen([BIN, "bacnet", "serve", str(f)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        assert '"ready"' in srv.stdout.readline()
        out = tmp_path / "proposed.json"
        p = subprocess.run([BIN, "bacnet", "discover", "--bind", "127.0.0.1:47825", "--target", DEV_IP,
                            "--wait-ms", "500", "--site", "b", "--output", str(out)],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        doc = json.loads(out.read_text())
        assert doc["format"] == "sbems-site" and len(doc["equipment"]) == 1
        assert doc["equipment"][0]["building"] == "b"
        objs = {pt["source"]["address"]["object"]: pt for pt in doc["points"]}
        assert {"analog-input:1", "analog-input:2", "analog-value:1"} <= set(objs)
        assert objs["analog-value:1"]["writable"] is True and objs["analog-input:1"]["unit"] == "°C"
        # the reviewer keeps two of them
        doc["points"] = [objs["analog-input:1"], objs["analog-value:1"]]
        out.write_text(json.dumps(doc))
        site = {k: v for k, v in SITE.items() if k != "points"} | {"points": []}
        base = tmp_path / "base.json"
        base.write_text(json.dumps(site))
        sbems.run("import", str(base))
        sbems.run("import", str(out))
        listed = sbems.run("export").stdout
        exported = json.loads(listed)
        ids = sorted(pt["id"] for pt in exported["points"])
        assert ids == sorted([objs["analog-input:1"]["id"], objs["analog-value:1"]["id"]])
    finally:
        srv.send_signal(signal.SIGTERM)
        srv.wait(timeout=10)
