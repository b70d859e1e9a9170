#!/usr/bin/env node
'use strict';
/*
 * client.js - a BACnet/IP client on an npm stack, independent of sbems's, for
 * sbems's interoperability tests.
 *
 * One operation per run:
 *   node client.js [--lib bacnet-js|node-bacnet] [--bind-ip 127.0.0.1]
 *        [--bind-port 0] [--timeout 3000] OP [--key value ...]
 *   node client.js ... --json '{"op":"read","address":"127.0.0.2:47808",...}'
 * or one JSON command per stdin line (faster: one process, one socket):
 *   node client.js --stdin ...      -> {"ready":true,...} then one result line
 *                                      per command, carrying its "id"
 *
 * Operations (JSON keys; on the command line as --key value):
 *   whois      address [low high] [wait_ms=1000]    directed Who-Is, lists I-Ams
 *   read       address object property [index] [max_apdu]
 *   rpm        address specs=[{object, properties:[prop | {id, index}]}] [max_apdu]
 *              (property "all", "required", "optional" allowed)
 *   write      address object property value [type] [priority] [index]
 *              type: real|unsigned|signed|enumerated|boolean|charstring|double|null
 *              value null (or type null) relinquishes at that priority
 *   subscribe  address object [process_id=1] [confirmed=false] [lifetime=60]
 *              [cancel=false] [listen_s=0]      collects notifications for listen_s
 *   readrange  address object [by=position|sequence|time|all] [ref] [time] [count]
 *   listen     seconds                          collects COV notifications
 * Every result is one JSON line: {"ok":true,...} or {"ok":false,"error":{kind,...}}
 * with kind error (class/code), reject (reason), abort (reason, server),
 * timeout, usage or decode.  Numbers come with their standard names.
 * COV notifications received are also printed as {"event":"cov",...} lines.
 */
const readline = require('readline');
const C = require('./lib/common');

const E = C.E;
const P = E.PropertyIdentifier;
const ALL_INDEX = E.ASN1_ARRAY_ALL;

const args = C.parseArgs(process.argv.slice(2));
const LIB = String(args.lib || 'bacnet-js');
const TIMEOUT = Number(args.timeout || 3000);
// Tests talk to 127.0.0.0/8 only: a broadcast goes to a loopback address
// (and reaches nothing bound to 127.0.0.x anyway; use a directed Who-Is).
const BROADCAST = String(args.broadcast || '127.255.255.255');
if (!/^127\./.test(BROADCAST)) {
    process.stdout.write(JSON.stringify({ ok: false, error: { kind: 'usage', message: '--broadcast must be in 127.0.0.0/8' } }) + '\n');
    process.exit(2);
}

class UsageError extends Error {}

/* ---- fault bookkeeping: Reject vs Abort --------------------------------- */

// Both libraries turn Reject and Abort into the same "BacnetAbort - Reason:N"
// error, so the gate notes the PDU type of each fault by invoke id.
const faults = new Map();
const notifications = [];
let nextInvoke = 1;
function invokeId() {
    const id = nextInvoke;
    nextInvoke = nextInvoke >= 255 ? 1 : nextInvoke + 1;   // 0 would make the libraries pick their own
    faults.delete(id);
    return id;
}

function gate(msg) {
    if (!C.bvlcLengthOk(msg)) return true;   // malformed BVLL: drop
    const h = C.peekApdu(msg);
    if (h && (h.pduType === 6 || h.pduType === 7)) faults.set(h.invokeId, h);
    return false;
}

function errorResult(err, id) {
    const m = String((err && err.message) || err);
    if (err instanceof UsageError || (err && err.usage)) return { kind: "usage", message: m };
    if (/TIMEOUT/.test(m)) return { kind: 'timeout', message: m };
    let r = /BacnetError - Class:(\d+) - Code:(\d+)/.exec(m);
    if (r) return Object.assign({ kind: 'error' }, C.errorJson(Number(r[1]), Number(r[2])));
    if (err && err.bacnetErrorClass !== undefined) {
        return Object.assign({ kind: 'error' }, C.errorJson(err.bacnetErrorClass, err.bacnetErrorCode));
    }
    r = /BacnetAbort - Reason:(\d+)/.exec(m);
    if (r) {
        const f = faults.get(id);
        const reason = Number(r[1]);
        if (f && f.pduType === 6) return { kind: 'reject', reason, reason_name: C.enumName(E.RejectReason, reason) };
        return { kind: 'abort', reason, reason_name: C.enumName(E.AbortReason, reason), server: f ? f.server : null };
    }
    if (/INVALID_DECODING/.test(m)) return { kind: 'decode', message: m };
    return { kind: 'other', message: m };
}

/* ---- the two stacks behind one interface ------------------------------- */

function promisify(fn) {
    return (...a) => new Promise((resolve, reject) => fn(...a, (err, res) => (err ? reject(err) : resolve(res))));
}

function makeStack(bindIp, bindPort) {
    const lib = LIB === 'node-bacnet' ? C.nodeBacnet() : C.bacnetJs();
    const transport = C.gateTransport(lib.Transport, { port: bindPort, interface: bindIp,
        broadcastAddress: BROADCAST, reuseAddr: false }, gate);
    const client = new lib.Client({ transport, apduTimeout: TIMEOUT });
    const rcv = (address) => ({ address });
    const s = { lib, client, transport };
    if (LIB === 'node-bacnet') {
        const c = client;
        s.readProperty = (a, oid, pid, o) => promisify(c.readProperty.bind(c))(rcv(a), oid, pid, o);
        s.readPropertyMultiple = (a, specs, o) => promisify(c.readPropertyMultiple.bind(c))(rcv(a), specs, o);
        s.writeProperty = (a, oid, pid, vals, o) => promisify(c.writeProperty.bind(c))(rcv(a), oid, pid, vals, o);
        s.subscribeCov = (a, oid, pid, cancel, conf, life, o) =>
            promisify(c.subscribeCov.bind(c))(rcv(a), oid, pid, cancel, conf, life, o);
        s.readRange = (a, oid, p) => {
            if (p.by !== 'position') throw new UsageError('node-bacnet: readrange supports by=position only');
            return promisify(c.readRange.bind(c))(rcv(a), oid, p.ref, p.count, { invokeId: p.invokeId, maxApdu: p.maxApdu });
        };
    } else {
        s.readProperty = (a, oid, pid, o) => client.readProperty(rcv(a), oid, pid, o);
        s.readPropertyMultiple = (a, specs, o) => client.readPropertyMultiple(rcv(a), specs, o);
        s.writeProperty = (a, oid, pid, vals, o) => client.writeProperty(rcv(a), oid, pid, vals, o);
        s.subscribeCov = (a, oid, pid, cancel, conf, life, o) => client.subscribeCov(rcv(a), oid, pid, cancel, conf, life, o);
        s.readRange = (a, oid, p) => readRangeBacnetJs(lib, client, rcv(a), oid, p);
    }
    s.whoIs = (a, low, high) => {
        const o = low !== undefined && high !== undefined ? { lowLimit: low, highLimit: high } : undefined;
        if (a) client.whoIs(rcv(a), o); else client.whoIs(o);
    };
    return s;
}

/*
 * ReadRange with every range kind (clause 15.8).  The library's own
 * readRange() always asks by position for Log_Buffer, so build the request
 * from its encoders, the same way its readRange() does.
 */
async function readRangeBacnetJs(lib, client, receiver, oid, p) {
    const RT = lib.enums.ReadRangeType;
    const type = { position: RT.BY_POSITION, sequence: RT.BY_SEQUENCE_NUMBER, time: RT.BY_TIME_REFERENCE_TIME_COUNT, all: undefined }[p.by];
    if (!(p.by in { position: 1, sequence: 1, time: 1, all: 1 })) throw new UsageError(`readrange: unknown by=${p.by}`);
    const buffer = client._getApduBuffer(receiver);
    lib.npdu.encode(buffer, E.NpduControlPriority.NORMAL_MESSAGE | E.NpduControlBit.EXPECTING_REPLY, receiver);
    lib.apdu.encodeConfirmedServiceRequest(buffer, E.PduType.CONFIRMED_REQUEST, E.ConfirmedServiceChoice.READ_RANGE,
        E.MaxSegmentsAccepted.SEGMENTS_0, p.maxApdu, p.invokeId, 0, 0);
    lib.services.ReadRange.encode(buffer, oid, p.property, ALL_INDEX, type, p.ref, p.time, p.count);
    client.sendBvlc(receiver, buffer);
    const data = await client._requestManager.add(p.invokeId);
    const res = lib.services.ReadRange.decodeAcknowledge(data.buffer, data.offset, data.length);
    if (!res) throw new Error('INVALID_DECODING');
    // The library does not decode firstSequenceNumber [6], the last field of
    // the ACK (clause 15.8): read it from the tail, after closing tag 5.
    const end = data.offset + data.length;
    for (let l = 1; l <= 4; l++) {
        if (data.buffer[end - l - 1] === (0x68 | l) && data.buffer[end - l - 2] === 0x5f) {
            res.firstSequence = data.buffer.readUIntBE(end - l, l);
            break;
        }
    }
    return res;
}

/* ---- operations --------------------------------------------------------- */

function need(c, k) {
    if (c[k] === undefined || c[k] === '') throw new UsageError(`${c.op}: missing "${k}"`);
    return c[k];
}

function propRef(p) {
    if (p && typeof p === 'object') return { id: C.propertyId(p.id), index: p.index === undefined || p.index === null ? ALL_INDEX : Number(p.index) };
    return { id: C.propertyId(p), index: ALL_INDEX };
}

function propJson(prop) {
    return { property: C.enumName(P, prop.id) || prop.id, property_id: prop.id,
        index: prop.index === ALL_INDEX || prop.index === undefined ? null : prop.index };
}

function maxApduCodeOf(c) { return C.maxApduCode(Number(c.max_apdu || 1476)); }

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

function parseJsonish(v) {
    if (typeof v !== 'string') return v;
    try { return JSON.parse(v); } catch (e) { return v; }
}

async function opRead(s, c) {
    const oid = C.parseObjectId(need(c, 'object'));
    const ref = propRef({ id: need(c, 'property'), index: c.index });
    const id = invokeId();
    const o = { invokeId: id, maxApdu: maxApduCodeOf(c) };
    if (ref.index !== ALL_INDEX) o.arrayIndex = ref.index;
    try {
        const r = await s.readProperty(need(c, 'address'), oid, ref.id, o);
        return Object.assign({ ok: true, object: C.objectIdString(r.objectId) }, propJson(r.property),
            { values: r.values.map(C.jsonValue) });
    } catch (e) { return { ok: false, error: errorResult(e, id) }; }
}

async function opRpm(s, c) {
    const specs = parseJsonish(need(c, 'specs')).map((sp) => ({
        objectId: C.parseObjectId(sp.object), properties: (sp.properties || ['present-value']).map(propRef) }));
    const id = invokeId();
    try {
        const r = await s.readPropertyMultiple(need(c, 'address'), specs, { invokeId: id, maxApdu: maxApduCodeOf(c) });
        const results = r.values.map((obj) => ({
            object: C.objectIdString(obj.objectId),
            properties: obj.values.map((pv) => {
                const prop = pv.property || { id: pv.id, index: pv.index };
                const vals = (pv.value || []).map(C.jsonValue);
                const err = vals.length === 1 && vals[0].error;
                return Object.assign(propJson(prop), err ? { error: err } : { values: vals });
            }),
        }));
        return { ok: true, results };
    } catch (e) { return { ok: false, error: errorResult(e, id) }; }
}

async function opWrite(s, c) {
    const oid = C.parseObjectId(need(c, 'object'));
    const ref = propRef({ id: need(c, 'property'), index: c.index });
    if (c.value === undefined) throw new UsageError('write: missing "value" (null relinquishes)');
    let value = parseJsonish(c.value);
    const type = c.type || (value === null ? 'null' : (typeof value === 'boolean' ? 'boolean' : 'real'));
    const vals = [C.appData(type === 'null' ? null : value, type)];
    const id = invokeId();
    const o = { invokeId: id };
    if (c.priority !== undefined && c.priority !== null) o.priority = Number(c.priority);
    if (ref.index !== ALL_INDEX) o.arrayIndex = ref.index;
    try {
        await s.writeProperty(need(c, 'address'), oid, ref.id, vals, o);
        return { ok: true };
    } catch (e) { return { ok: false, error: errorResult(e, id) }; }
}

function truthy(v) { return v === true || v === 'true' || v === 1 || v === '1'; }

async function opSubscribe(s, c) {
    const oid = C.parseObjectId(need(c, 'object'));
    const processId = Number(c.process_id === undefined ? 1 : c.process_id);
    const cancel = truthy(c.cancel);
    const confirmed = truthy(c.confirmed);
    const lifetime = Number(c.lifetime === undefined ? 60 : c.lifetime);
    const id = invokeId();
    const from = notifications.length;
    try {
        await s.subscribeCov(need(c, 'address'), oid, processId, cancel, confirmed, lifetime, { invokeId: id });
    } catch (e) { return { ok: false, error: errorResult(e, id) }; }
    const listen = Number(c.listen_s || 0);
    if (listen > 0) await sleep(listen * 1000);
    return { ok: true, notifications: notifications.slice(from) };
}

async function opReadRange(s, c) {
    const oid = C.parseObjectId(need(c, 'object'));
    const by = String(c.by || 'position');
    const id = invokeId();
    const p = { by, property: C.propertyId(c.property || 'log-buffer'), ref: Number(c.ref === undefined ? 1 : c.ref),
        count: Number(c.count === undefined ? 10 : c.count), time: c.time ? new Date(c.time) : new Date(),
        invokeId: id, maxApdu: maxApduCodeOf(c) };
    try {
        const r = await s.readRange(need(c, 'address'), oid, p);
        const flags = [];
        if (r.resultFlag) for (let i = 0; i < r.resultFlag.bitsUsed; i++) flags.push(!!(r.resultFlag.value[i >> 3] & (1 << (i & 7))));
        if (LIB === 'node-bacnet') {
            // node-bacnet slices its rangeBuffer with a length used as an
            // offset (read-range.js decodeAcknowledge), so its item data is
            // cut short: report the header only.
            return { ok: true, object: C.objectIdString(r.objectId), item_count: r.itemCount,
                result_flags: { first_item: !!flags[0], last_item: !!flags[1], more_items: !!flags[2] },
                first_sequence: null, items: null, raw: null };
        }
        const seq0 = r.firstSequence;
        // The library names the decoded log-record status bits in reverse
        // (it calls bit 0, in-alarm in clause 21's BACnetStatusFlags,
        // "out_of_service"); undo that to report [in-alarm, fault,
        // overridden, out-of-service].
        const items = (r.values || []).map((it, i) => ({
            time: it.timestamp instanceof Date ? it.timestamp.toISOString() : it.timestamp,
            value: it.value,
            status_flags: it.status ? [it.status.out_of_service, it.status.overridden, it.status.fault, it.status.in_alarm] : null,
            seq: seq0 === undefined ? null : seq0 + i }));
        return { ok: true, object: C.objectIdString(r.objectId), item_count: r.itemCount,
            result_flags: { first_item: !!flags[0], last_item: !!flags[1], more_items: !!flags[2] },
            first_sequence: seq0 === undefined ? null : seq0, items,
            raw: r.rangeBuffer ? Buffer.from(r.rangeBuffer).toString('hex') : null };
    } catch (e) { return { ok: false, error: errorResult(e, id) }; }
}

async function opWhoIs(s, c) {
    const seen = [];
    const on = (content) => {
        const p = content.payload;
        seen.push({ address: content.header.sender.address, device: p.deviceId, max_apdu: p.maxApdu,
            segmentation: p.segmentation, segmentation_name: C.enumName(E.Segmentation, p.segmentation), vendor_id: p.vendorId });
    };
    s.client.on('iAm', on);
    const low = c.low === undefined ? undefined : Number(c.low);
    const high = c.high === undefined ? undefined : Number(c.high);
    s.whoIs(c.address, low, high);
    await sleep(Number(c.wait_ms || 1000));
    s.client.removeListener('iAm', on);
    return { ok: true, devices: seen };
}

async function opListen(s, c) {
    const from = notifications.length;
    await sleep(Number(c.seconds || 1) * 1000);
    return { ok: true, notifications: notifications.slice(from) };
}

const OPS = { whois: opWhoIs, read: opRead, rpm: opRpm, write: opWrite, subscribe: opSubscribe,
    readrange: opReadRange, listen: opListen };

async function run(s, c) {
    const fn = OPS[c.op];
    try {
        if (!fn) throw new UsageError(`unknown op "${c.op}" (${Object.keys(OPS).join(' ')})`);
        return Object.assign({ op: c.op }, await fn(s, c));
    } catch (e) {
        return { op: c.op, ok: false, error: errorResult(e) };
    }
}

/* ---- COV notifications ------------------------------------------------- */

function onCov(s, confirmed) {
    return (content) => {
        const p = content.payload;
        const n = { event: 'cov', confirmed, from: content.header.sender.address, process_id: p.subscriberProcessId,
            device: p.initiatingDeviceId && p.initiatingDeviceId.instance, object: C.objectIdString(p.monitoredObjectId),
            time_remaining: p.timeRemaining, values: {} };
        for (const v of p.values || []) {
            const name = C.enumName(P, v.property.id) || String(v.property.id);
            n.values[name] = (v.value || []).map(C.jsonValue);
        }
        if (confirmed) s.client.simpleAckResponse(content.header.sender, content.service, content.invokeId);
        notifications.push(n);
        C.emitLine(n);
    };
}

/* ---- main ------------------------------------------------------------- */

function commandFromArgs() {
    if (args.json) return JSON.parse(args.json);
    const c = { op: args._[0] };
    for (const [k, v] of Object.entries(args)) {
        if (['_', 'lib', 'bind_ip', 'bind_port', 'timeout', 'stdin', 'json', 'broadcast'].includes(k)) continue;
        c[k] = v;
    }
    return c;
}

function main() {
    const s = makeStack(args.bind_ip || '127.0.0.1', Number(args.bind_port || 0));
    s.client.on('covNotify', onCov(s, true));
    s.client.on('covNotifyUnconfirmed', onCov(s, false));
    s.client.on('error', (e) => {
        C.emitLine({ ok: false, ready: false, error: { kind: 'socket', message: String(e.message || e) } });
        process.exit(1);
    });
    s.client.on('listening', async () => {
        const addr = s.transport._server.address();
        if (!args.stdin) {
            let c;
            try { c = commandFromArgs(); } catch (e) { c = { op: null, bad: e.message }; }
            const res = c.bad ? { ok: false, error: { kind: 'usage', message: c.bad } } : await run(s, c);
            res.lib = s.lib.name;
            res.bind = `${addr.address}:${addr.port}`;
            C.emitLine(res);
            s.client.close();
            process.exit(res.ok ? 0 : 3);
        }
        C.emitLine({ ready: true, lib: `${s.lib.name} ${s.lib.version}`, bind: `${addr.address}:${addr.port}`, pid: process.pid });
        const rl = readline.createInterface({ input: process.stdin });
        let pending = 0;
        let closed = false;
        const done = () => { if (closed && pending === 0) { s.client.close(); process.exit(0); } };
        rl.on('line', async (line) => {
            if (!line.trim()) return;
            let c;
            try { c = JSON.parse(line); } catch (e) { C.emitLine({ ok: false, error: { kind: 'usage', message: 'bad JSON' } }); return; }
            pending++;
            const res = await run(s, c);
            if (c.id !== undefined) res.id = c.id;
            C.emitLine(res);
            pending--;
            done();
        });
        rl.on('close', () => { closed = true; done(); });
    });
    process.on('SIGTERM', () => process.exit(0));
}

main();
