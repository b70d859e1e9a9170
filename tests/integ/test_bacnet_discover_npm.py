"""`sbems bacnet discover` (src/drivers/bacnet/discover.c) against an
independent BACnet implementation: the npm device of tests/integ/peers/bacnet
(@bacnet-js/client), under tshark when capturing is permitted.

The command is built here with gcc (ASan + UBSan) from its sources and a
three-line main, so the test runs whether or not the daemon has the
subcommand wired yet.  What it checks:
 1. a small device: found by directed Who-Is (the npm device answers I-Am
    unicast), Device object, Object_List whole, points proposed with the right
    Brick class, unit, writability; the trend log listed with its interval;
 2. a device that cannot segment (device.js aborts replies that do not fit
    --max-apdu) and lists 120 objects: Object_List is read by index and every
    point is still read (RPM batches sized to 480 octets, halved on abort);
 3. every datagram of run 1 decodes cleanly in tshark.
Traffic stays on 127.0.0.0/8; every process is stopped by its own handle."""
import json
import os
import subprocess

import pytest

from bacnet_peers import TsharkCapture, capture_unavailable, npm_ready, start_device
from conftest import BIN

DEV_IP = "127.0.0.71"
DEV_IP2 = "127.0.0.72"
CLI_PORT = 47821                      # our socket (the devices use 47822, 47823)
PORTS = (47821, 47823)


@pytest.fixture(scope="module")
def discover_bin():
    """The daemon's own `sbems bacnet discover` (built by make check under
    the sanitizers, like every binary the integration tests run)."""
    if not os.path.exists(BIN):
        pytest.skip(f"{BIN} is not built")
    return [BIN, "bacnet"]


def run_discover(binary, *args, timeout=120):
    r = subprocess.run([*binary, "discover", "--bind", f"127.0.0.1:{CLI_PORT}", *args],
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stderr[-3000:]}"
    assert "runtime error" not in r.stderr and "AddressSanitizer" not in r.stderr, r.stderr
    return json.loads(r.stdout)


AHU = {
    "device": {"name": "RTU-7 npm", "description": "rooftop unit"},
    "objects": [
        {"type": "analog-input", "instance": 1, "name": "Space Temperature", "units": "degrees-fahrenheit",
         "value": 72.5, "description": "zone sensor"},
        {"type": "analog-value", "instance": 1, "name": "Space Temperature Setpoint Active",
         "units": "degrees-fahrenheit", "commandable": True, "relinquish_default": 72},
        {"type": "analog-input", "instance": 2, "name": "Discharge Air Temp", "units": "degrees-fahrenheit",
         "value": 55},
        {"type": "analog-output", "instance": 1, "name": "Outdoor Air Damper Position", "units": "percent"},
        {"type": "binary-input", "instance": 1, "name": "Supply Fan Status", "value": 1},
        {"type": "binary-output", "instance": 1, "name": "Supply Fan Command"},
        {"type": "multi-state-value", "instance": 1, "name": "Occupancy Status", "value": 1,
         "states": ["Occupied", "Unoccupied", "Standby"]},
        {"type": "analog-input", "instance": 3, "name": "Space CO2", "units": "parts-per-million", "value": 600},
        {"type": "analog-input", "instance": 4, "name": "Chiller kW", "units": "kilowatts", "value": 42},
        {"type": "trend-log", "instance": 1, "name": "DAT log", "log": "analog-input:2", "log_interval_s": 60,
         "buffer_size": 50},
    ],
}

EXPECT = {
    "analog-input:1": ("Zone_Air_Temperature_Sensor", "temperature", "°F", False),
    "analog-value:1": ("Effective_Zone_Air_Temperature_Setpoint", "setpoint", "°F", True),
    "analog-input:2": ("Discharge_Air_Temperature_Sensor", "temperature", "°F", False),
    "analog-output:1": ("Damper_Position_Command", "command", "%", True),   # commandable: a command
    "binary-input:1": ("Fan_Status", "status", None, False),
    "binary-output:1": ("Start_Stop_Command", "command", None, True),
    "multi-state-value:1": ("Occupancy_Status", "occupancy", None, False),
    "analog-input:3": ("CO2_Level_Sensor", "co2", "ppm", False),
    "analog-input:4": ("Electric_Power_Sensor", "power", "kW", False),
}


def points_by_object(dev):
    return {p["source"]["address"]["object"]: p for p in dev["points"]}


def check_small(res):
    assert res["complete"] is True
    assert res["unanswered"] == []
    [dev] = res["devices"]
    assert dev["device"] == 7001
    assert dev["address"] == f"{DEV_IP}:47822"
    assert dev["name"] == "RTU-7 npm"
    assert dev["found_by"] == "i-am"
    assert dev["object_list"] == "whole"
    assert dev["objects"] == len(AHU["objects"]) + 1
    assert dev["complete"] is True and dev["errors"] == [], dev["errors"]
    pts = points_by_object(dev)
    assert set(pts) == set(EXPECT)
    for obj, (brick, kind, unit, writable) in EXPECT.items():
        p = pts[obj]
        assert (p["brick"], p["kind"], p.get("unit"), p["writable"]) == (brick, kind, unit, writable), p
        assert p["source"]["driver"] == "bacnet" and p["source"]["address"]["device"] == 7001
    assert pts["analog-input:1"]["description"] == "zone sensor"
    assert abs(pts["analog-input:1"]["bacnet"]["present_value"] - 72.5) < 1e-3
    [tl] = dev["trend_logs"]
    assert tl["object"] == "trend-log:1" and tl["name"] == "DAT log"
    # device.js has no Log_DeviceObjectProperty (optional in clause 12.25): no "logs"
    assert "logs" not in tl and tl["log_interval_s"] == 60
    assert len({p["id"] for p in dev["points"]}) == len(dev["points"])


def test_discover_npm_device(discover_bin, tmp_path):
    npm_ready()
    with start_device(ip=DEV_IP, port=47822, device=7001, config=AHU, tmp_path=tmp_path,
                      args=("--freeze",)) as dev:
        res = run_discover(discover_bin, "--target", f"{DEV_IP}:47822", "--wait-ms", "500")
        dev.wait_event("who-is", timeout=5)
    check_small(res)


def test_discover_npm_no_segmentation_many_objects(discover_bin, tmp_path):
    npm_ready()
    objs = [{"type": "analog-input", "instance": i, "name": f"VAV-{i} ZN-T", "units": "degrees-celsius",
             "value": 20 + i / 10, "description": "zone temperature of a VAV box on floor 3"}
            for i in range(1, 121)]
    cfg = {"device": {"name": "JACE npm"}, "objects": objs}
    with start_device(ip=DEV_IP2, port=47823, device=7002, config=cfg, tmp_path=tmp_path,
                      args=("--freeze", "--max-apdu", "480")):
        res = run_discover(discover_bin, "--target", f"{DEV_IP2}:47823", "--wait-ms", "500")
    [dev] = res["devices"]
    assert dev["segmentation"] == "none" and dev["max_apdu"] == 480
    assert dev["object_list"] == "by-index"          # 121 identifiers do not fit 480 octets
    assert dev["objects"] == 121
    assert len(dev["points"]) == 120
    assert all(p["brick"] == "Zone_Air_Temperature_Sensor" and p["unit"] == "°C" for p in dev["points"])
    assert all(p.get("description") for p in dev["points"])
    assert dev["complete"] is True
    # the only error is the refused whole Object_List
    assert [e for e in dev["errors"] if "object-list (whole)" not in e["error"]] == []


def test_discover_npm_under_tshark(discover_bin, tmp_path):
    npm_ready()
    if capture_unavailable():
        pytest.skip(capture_unavailable())
    with TsharkCapture(ports=PORTS, path=tmp_path / "discover.pcapng") as cap:
        with start_device(ip=DEV_IP, port=47822, device=7001, config=AHU, tmp_path=tmp_path,
                          args=("--freeze",)):
            res = run_discover(discover_bin, "--target", f"{DEV_IP}:47822", "--wait-ms", "500")
    check_small(res)
    cap.assert_clean()
