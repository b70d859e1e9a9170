#!/usr/bin/python3
"""modbus_server.py - a Modbus TCP or RTU server for sbems tests (pymodbus 3.0).

Run with Debian's interpreter (/usr/bin/python3, python3-pymodbus):

    modbus_server.py --port 15020 --layout layout.json --log requests.log
    modbus_server.py --serial /dev/pts/7 --baud 9600 --parity N --layout ...

The layout (JSON) says what each unit id holds; only listed addresses exist,
so any other address answers exception 2 (illegal data address):

    {"units": {"1": {
        "fill":   [{"table": "holding", "start": 0, "count": 100}],
        "values": [{"table": "holding", "addr": 0, "type": "float32", "value": 1.5,
                    "word_order": "little", "byte_order": "big"},
                   {"table": "coil", "addr": 3, "value": 1},
                   {"table": "input", "addr": 7, "raw": [1, 2]}]}}}

fill maps zero-valued addresses; values are encoded here, independently of the
code under test (types int16 uint16 int32 uint32 int64 uint64 float32 float64;
word_order "big" = most significant register first; byte_order "little" swaps
the two bytes of each register).  Tables: holding, input, coil, discrete.

Every data access is appended to --log as "unit val|get|set fc addr count",
one line each, flushed, so a test can count the requests it caused: pymodbus
validates each request once ("val", also for requests then refused with an
exception), then reads ("get") or stores ("set"; a write of one register
also reads it back for the echo).
When the server listens, --ready FILE is created.  Stop it with SIGTERM.
"""
import argparse
import asyncio
import json
import logging
import signal
import struct
import sys

from pymodbus.datastore import (ModbusServerContext, ModbusSlaveContext,
                                ModbusSparseDataBlock)
from pymodbus.server.async_io import ModbusSerialServer, ModbusTcpServer
from pymodbus.transaction import ModbusRtuFramer, ModbusSocketFramer

FMT = {"int16": "h", "uint16": "H", "int32": "i", "uint32": "I", "int64": "q",
       "uint64": "Q", "float32": "f", "float64": "d"}
TABLES = {"discrete": "di", "coil": "co", "holding": "hr", "input": "ir"}


def encode(entry):
    """Registers (or one bit) of a layout value."""
    if "raw" in entry:
        return list(entry["raw"])
    table = entry["table"]
    if table in ("coil", "discrete"):
        return [1 if entry["value"] else 0]
    typ = entry.get("type", "uint16")
    data = struct.pack(">" + FMT[typ], entry["value"])
    regs = [struct.unpack(">H", data[i:i + 2])[0] for i in range(0, len(data), 2)]
    if entry.get("byte_order", "big") == "little":
        regs = [((r & 0xFF) << 8) | (r >> 8) for r in regs]
    if entry.get("word_order", "big") == "little":
        regs.reverse()
    return regs


class LoggingContext(ModbusSlaveContext):
    """A slave context that logs every access to a file."""

    def __init__(self, unit, log, **kw):
        super().__init__(zero_mode=True, **kw)
        self.unit = unit
        self.log = log

    def _note(self, what, fc, address, count):
        if self.log:
            self.log.write(f"{self.unit} {what} {fc} {address} {count}\n")
            self.log.flush()

    def validate(self, fc_as_hex, address, count=1):
        self._note("val", fc_as_hex, address, count)
        return super().validate(fc_as_hex, address, count)

    def getValues(self, fc_as_hex, address, count=1):
        self._note("get", fc_as_hex, address, count)
        return super().getValues(fc_as_hex, address, count)

    def setValues(self, fc_as_hex, address, values):
        self._note("set", fc_as_hex, address, len(values))
        return super().setValues(fc_as_hex, address, values)


def build_unit(unit, spec, log):
    maps = {t: {} for t in TABLES}
    for f in spec.get("fill", []):
        for a in range(f["start"], f["start"] + f["count"]):
            maps[f["table"]][a] = 0
    for v in spec.get("values", []):
        for i, r in enumerate(encode(v)):
            maps[v["table"]][v["addr"] + i] = r
    blocks = {}
    for table, key in TABLES.items():
        # An empty sparse block would map address 0; use an impossible one.
        blocks[key] = ModbusSparseDataBlock(maps[table] or {70000: 0})
    return LoggingContext(unit, log, **blocks)


async def serve(args, context):
    if args.serial:
        server = ModbusSerialServer(context, framer=ModbusRtuFramer, port=args.serial,
                                    baudrate=args.baud, parity=args.parity,
                                    bytesize=8, stopbits=1, timeout=0.05)
        await server.start()
        if server.transport is None:
            sys.exit("cannot open " + args.serial)
        task = asyncio.create_task(server.serve_forever())
    else:
        server = ModbusTcpServer(context, framer=ModbusSocketFramer,
                                 address=("127.0.0.1", args.port),
                                 allow_reuse_address=True)
        task = asyncio.create_task(server.serve_forever())
        await server.serving
    if args.ready:
        with open(args.ready, "w", encoding="ascii") as f:
            f.write("ready\n")
    await task


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--serial")
    ap.add_argument("--baud", type=int, default=9600)
    ap.add_argument("--parity", default="N", choices=["N", "E", "O"])
    ap.add_argument("--layout", required=True)
    ap.add_argument("--log")
    ap.add_argument("--ready")
    args = ap.parse_args()
    if not args.serial and not args.port:
        ap.error("give --port or --serial")
    logging.basicConfig(level=logging.CRITICAL)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(args.layout, encoding="utf-8") as f:
        layout = json.load(f)
    log = open(args.log, "a", encoding="ascii") if args.log else None
    slaves = {int(u): build_unit(int(u), spec, log) for u, spec in layout["units"].items()}
    context = ModbusServerContext(slaves=slaves, single=False)
    asyncio.run(serve(args, context))


if __name__ == "__main__":
    main()
