"""Self-test of the independent BACnet/IP peers (tests/integ/bacnet_peers.py):
the npm client against the npm device for every operation the sbems tests
rely on, both npm stacks as clients, and tshark watching the loopback traffic
-- clean for the peers' own traffic, and catching a malformed datagram
injected on purpose.  sbems itself is not involved."""
import time

import pytest

from bacnet_peers import BAD_FILTER, Client, TsharkCapture, npm_ready, run_client, send_udp, start_device

DEV_IP = "127.0.0.161"        # a loopback address of its own: no clash with other tests
DEV_PORT = 47808
CLIENT_PORT = 47809          # not 47808 (see docs/internals/bacnet-interop.md)
PORTS = (DEV_PORT, CLIENT_PORT + 1)


def bvll(apdu, npdu=b"\x01\x04"):
    """A BACnet/IP Original-Unicast-NPDU around an APDU (annex J.2, clause 6.2)."""
    body = npdu + apdu
    return b"\x81\x0a" + (4 + len(body)).to_bytes(2, "big") + body


def values(r):
    assert r["ok"], r
    return [v["value"] for v in r["values"]]


def test_npm_client_and_device_under_tshark(tmp_path):
    npm_ready()
    cap = TsharkCapture(ports=PORTS, path=tmp_path / "bacnet.pcapng")
    with cap:
        with start_device(ip=DEV_IP, port=DEV_PORT, device=6101, args=("--freeze",), tmp_path=tmp_path) as dev, \
                Client(bind_port=CLIENT_PORT) as c:
            a = dev.address
            assert dev.ready["objects"][:3] == ["device:6101", "analog-input:1", "analog-value:1"]

            # Who-Is, directed, with and without a range that holds the device
            r = c.request("whois", address=a, wait_ms=500)
            assert r["devices"] == [{"address": a, "device": 6101, "max_apdu": 1476, "segmentation": 3,
                                     "segmentation_name": "no-segmentation", "vendor_id": 999}]
            assert c.request("whois", address=a, low=6000, high=6200, wait_ms=300)["devices"]
            assert c.request("whois", address=a, low=1, high=10, wait_ms=300)["devices"] == []

            # ReadProperty: a value, array size, one element, the whole array, errors
            assert values(c.request("read", address=a, object="analog-input:1", property="present-value")) == [21.5]
            assert values(c.request("read", address=a, object="analog-input:1", property="units")) == [62]
            assert values(c.request("read", address=a, object="device:6101", property="object-list",
                                    index=0)) == [6]
            assert values(c.request("read", address=a, object="device:4194303", property="object-list",
                                    index=2)) == ["analog-input:1"]
            assert len(values(c.request("read", address=a, object="analog-value:1",
                                        property="priority-array"))) == 16
            assert values(c.request("read", address=a, object="device:6101", property="segmentation-supported")) == [3]
            err = c.request("read", address=a, object="analog-value:1", property="priority-array", index=17)["error"]
            assert (err["kind"], err["code_name"]) == ("error", "invalid-array-index")
            err = c.request("read", address=a, object="analog-value:99", property="present-value")["error"]
            assert (err["kind"], err["class_name"], err["code_name"]) == ("error", "object", "unknown-object")

            # ReadPropertyMultiple, with ALL and per-property errors inside the ACK
            r = c.request("rpm", address=a, specs=[
                {"object": "analog-value:1", "properties": ["all"]},
                {"object": "analog-input:1", "properties": ["present-value", "status-flags", 4000]},
                {"object": "binary-output:9", "properties": ["present-value"]}])
            assert r["ok"], r
            av, ai, bo = r["results"]
            names = [p["property"] for p in av["properties"]]
            for need in ("object-identifier", "object-name", "present-value", "priority-array",
                         "relinquish-default", "cov-increment", "property-list"):
                assert need in names, names
            assert ai["properties"][0]["values"][0]["value"] == 21.5
            assert ai["properties"][1]["values"][0]["value"] == [False, False, False, False]
            assert ai["properties"][2]["error"]["code_name"] == "unknown-property"
            assert bo["properties"][0]["error"]["code_name"] == "unknown-object"

            # WriteProperty and command prioritization (clause 19.2)
            def pv():
                return values(c.request("read", address=a, object="analog-value:1", property="present-value"))[0]
            assert pv() == 21.0                                        # Relinquish_Default
            assert c.request("write", address=a, object="analog-value:1", property="present-value",
                             value=23.5, priority=8)["ok"]
            ev = dev.wait_event("write", priority=8)
            assert ev["result"] == "ok" and ev["value"][0]["value"] == 23.5 and ev["priority_array"][7] == 23.5
            assert c.request("write", address=a, object="analog-value:1", property="present-value",
                             value=19, priority=12)["ok"]
            assert pv() == 23.5                                        # 8 beats 12
            assert values(c.request("read", address=a, object="analog-value:1",
                                    property="current-command-priority")) == [8]
            assert c.request("write", address=a, object="analog-value:1", property="present-value",
                             value=None, priority=8)["ok"]             # relinquish
            assert dev.wait_event("write", priority=8)["value"][0]["type"] == "null"
            assert pv() == 19.0
            assert c.request("write", address=a, object="analog-value:1", property="present-value",
                             value=None, priority=12)["ok"]
            assert pv() == 21.0
            assert c.request("write", address=a, object="analog-value:1", property="present-value", value=22)["ok"]
            ev = dev.wait_event("write", pred=lambda e: e["value"][0]["value"] == 22)
            assert ev["priority"] is None and ev["priority_array"][15] == 22   # absent priority = 16
            err = c.request("write", address=a, object="binary-output:1", property="present-value",
                            value=2, type="enumerated", priority=5)["error"]
            assert err["code_name"] == "value-out-of-range"
            err = c.request("write", address=a, object="analog-input:1", property="present-value", value=30)["error"]
            assert err["code_name"] == "write-access-denied"           # an input in service
            assert c.request("write", address=a, object="multi-state-value:1", property="present-value",
                             value=3, type="unsigned")["ok"]

            # SubscribeCOV: initial notification, then one per change >= COV_Increment
            n0 = len(c.notifications)
            r = c.request("subscribe", address=a, object="analog-value:1", process_id=7, confirmed=True,
                          lifetime=120, listen_s=0.5)
            assert r["ok"] and r["notifications"], r
            first = r["notifications"][0]
            assert first["confirmed"] and first["device"] == 6101 and first["values"]["present-value"][0]["value"] == 22
            sub = dev.wait_event("subscribe", process_id=7)
            assert sub["confirmed"] and sub["lifetime"] == 120 and sub["from"] == c.bind
            assert c.request("write", address=a, object="analog-value:1", property="present-value",
                             value=22.05, priority=16)["ok"]           # below COV_Increment 0.1
            assert c.request("write", address=a, object="analog-value:1", property="present-value",
                             value=24, priority=16)["ok"]
            n = c.wait_notification(since=n0 + 1, process_id=7, timeout=5)
            assert n["values"]["present-value"][0]["value"] == 24
            assert dev.wait_event("cov", process_id=7, pred=lambda e: e["present_value"] == 24)["result"] == "ack"
            assert all(x["values"]["present-value"][0]["value"] != 22.05 for x in c.notifications[n0:])
            n1 = len(c.notifications)
            assert c.request("subscribe", address=a, object="analog-input:1", process_id=8, confirmed=False,
                             lifetime=60)["ok"]
            c.wait_notification(since=n1, process_id=8, timeout=5)
            dev.command("set", object="analog-input:1", fault=True)    # Status_Flags change
            n = c.wait_notification(since=n1 + 1, process_id=8, timeout=5)
            assert n["confirmed"] is False and n["values"]["status-flags"][0]["value"] == [False, True, False, False]
            assert c.request("subscribe", address=a, object="analog-value:1", process_id=7, cancel=True)["ok"]
            assert dev.wait_event("subscribe", process_id=7, cancel=True)["existed"] is True
            err = c.request("subscribe", address=a, object="device:6101", process_id=9)["error"]
            assert err["code_name"] == "optional-functionality-not-supported"

            # ReadRange on the Trend Log, by position and by sequence number
            time.sleep(1.2)
            r = c.request("readrange", address=a, object="trend-log:1", by="position", ref=1, count=2)
            assert r["ok"] and r["item_count"] == 2 and r["result_flags"]["first_item"], r
            assert r["items"][0]["value"] == 21.5
            r = c.request("readrange", address=a, object="trend-log:1", by="sequence", ref=2, count=1)
            assert r["ok"] and r["first_sequence"] == 2 and r["item_count"] == 1, r

            # Abort: a reply longer than the requester's Max-APDU (no segmentation)
            err = c.request("rpm", address=a, specs=[{"object": "device:6101", "properties": ["all"]}],
                            max_apdu=206)["error"]
            assert (err["kind"], err["reason_name"], err["server"]) == ("abort", "segmentation-not-supported", True)

            # Reject: a service the device does not implement (ReinitializeDevice)
            reply = send_udp(bvll(b"\x00\x05\x21\x14\x09\x00"), a, wait_reply=3)
            assert reply == bvll(b"\x60\x21\x09", npdu=b"\x01\x00"), reply

            # the one-shot form and the library's request from another port
            r = run_client("read", address=a, object="analog-value:1", property="present-value",
                           bind_port=CLIENT_PORT + 1)
            assert values(r) == [24.0]

        # a malformed datagram on purpose: ReadProperty whose object identifier is cut short
        bad = send_udp(bvll(b"\x00\x05\x12\x0c\x0c\x00\x00"), (DEV_IP, DEV_PORT), wait_reply=0.5)
        assert bad is None                 # the device is gone by now: nothing answers
    assert cap.bacnet_packets >= 40, cap.summaries
    assert len(cap.bad) == 1, cap.bad
    assert cap.bad[0]["summary"].startswith("Confirmed-REQ   readProperty") and "Malformed" in cap.bad[0]["summary"]
    assert cap.bad[0]["frame"] == cap.packets          # the last frame: nothing else was flagged
    assert "_ws.malformed" in BAD_FILTER


def test_node_bacnet_client(tmp_path):
    """node-bacnet as a second, separately written client against the device."""
    npm_ready()
    with TsharkCapture(ports=PORTS, path=tmp_path / "node-bacnet.pcapng") as cap, \
            start_device(ip="127.0.0.162", port=DEV_PORT, device=6102, args=("--freeze",), tmp_path=tmp_path) as dev, \
            Client(lib="node-bacnet", bind_port=CLIENT_PORT) as c:
        a = dev.address
        assert c.ready["lib"].startswith("node-bacnet")
        assert c.request("whois", address=a, wait_ms=500)["devices"][0]["device"] == 6102
        assert values(c.request("read", address=a, object="analog-input:1", property="present-value")) == [21.5]
        r = c.request("rpm", address=a, specs=[{"object": "binary-output:1",
                                                 "properties": ["present-value", "relinquish-default"]}])
        assert [p["values"][0]["value"] for p in r["results"][0]["properties"]] == [0, 0]
        assert c.request("write", address=a, object="binary-output:1", property="present-value",
                         value=1, type="enumerated", priority=3)["ok"]
        assert dev.wait_event("write", priority=3)["present_value"] == 1
        err = c.request("read", address=a, object="analog-value:9", property="present-value")["error"]
        assert (err["kind"], err["code_name"]) == ("error", "unknown-object")
        r = c.request("subscribe", address=a, object="binary-output:1", process_id=3, confirmed=True,
                      lifetime=30, listen_s=0.5)
        assert r["ok"] and r["notifications"][0]["values"]["present-value"][0]["value"] == 1
        assert c.request("write", address=a, object="binary-output:1", property="present-value",
                         value=None, priority=3)["ok"]
        n = c.wait_notification(since=1, process_id=3, timeout=5)
        assert n["values"]["present-value"][0]["value"] == 0
        r = c.request("readrange", address=a, object="trend-log:1", by="position", ref=1, count=1)
        assert r["ok"] and r["item_count"] == 1, r
    cap.assert_clean(min_bacnet=16)


def test_tshark_filter_catches_only_bad_datagrams(tmp_path):
    """The capture helper on its own: valid BACnet passes, each kind of bad
    datagram is reported once, and the count of BACnet packets is right."""
    port = 47811
    cap = TsharkCapture(ports=(port, port), path=tmp_path / "filter.pcapng")
    dst = ("127.0.0.163", port)
    with cap:
        send_udp(bvll(b"\x10\x08", npdu=b"\x01\x00"), dst)                                # Who-Is
        send_udp(bvll(b"\x00\x05\x01\x0c\x0c\x02\x00\x04\xd2\x19\x4d"), dst)              # valid ReadProperty
        send_udp(bvll(b"\x00\x05\x02\x0c\x0c\x02\x00\x04\xd2\x19"), dst)                  # property tag, no value
        send_udp(b"\x81\x0a\x00\x03", dst)                                                # BVLC length < 4
        send_udp(bvll(b"\x30\x05\x0c\x0c\x02\x00\x04\xd2\x19\x4d\x3e\x75\x10\x00\x41"), dst)  # string overruns
        send_udp(bvll(b"\xe0\x01"), dst)                                                   # PDU type 14
    whys = sorted(b["why"] for b in cap.bad)
    assert cap.packets == 6, cap.summaries
    assert cap.bacnet_packets == 5, cap.summaries
    assert whys == ["APDU type not defined by the standard", "malformed or expert warning/error",
                    "malformed or expert warning/error", "not decodable as BACnet/IP (BVLL)"], cap.bad
    assert {b["frame"] for b in cap.bad} == {3, 4, 5, 6}
    with pytest.raises(AssertionError):
        cap.assert_clean()
