#!/usr/bin/env node
'use strict';
/*
 * anchor.js - the BACnet/IP polling anchor for sbems's bench: how fast an
 * independent stack (@bacnet-js/client) reads Present_Value from devices
 * with ReadPropertyMultiple, so sbems's BACnet driver has a number to beat.
 *
 *   node bench/bacnet/anchor.js --devices devices.json [--interval 1]
 *        [--duration 10] [--concurrency 8] [--bind-ip 127.0.0.1]
 *        [--bind-port 0] [--timeout 3000] [--max-apdu 1476]
 *
 * devices.json: [{"ip": "127.0.0.2", "port": 47808, "device": 1234,
 *                 "objects": ["analog-input:1", "analog-value:1", ...]}, ...]
 *
 * Each device gets a directed Who-Is first; its I-Am gives its Max-APDU
 * (clamped to 1476, clause 20.1.2.5), otherwise --max-apdu is used.  The
 * objects are packed into as few RPM requests as fit that Max-APDU, sized
 * on the reply (the larger side): per object 5 (object id) + 1 + 2
 * (property) + 1 + 5 (REAL) + 1 + 1 octets, or 17 when the property comes
 * back as an error, after a 3-octet ComplexACK header.  Every --interval
 * seconds one cycle sends all requests, at most --concurrency in flight;
 * a cycle that is still running when the next is due delays it (counted in
 * "overruns").  After --duration seconds it prints one JSON line:
 *   {"points_read", "seconds", "points_per_s", "errors", ...details}
 * cpu_user_s / cpu_system_s: process.cpuUsage() (all threads) over those
 * timed seconds, start-up and discovery excluded.
 * points_read counts values received; errors counts points not read (failed
 * requests times their points, plus per-property errors).
 * The peers' npm packages must be installed: (cd tests/integ/peers/bacnet && npm ci).
 */
const path = require('path');
const C = require(path.join(__dirname, '..', '..', 'tests', 'integ', 'peers', 'bacnet', 'lib', 'common.js'));

const B = C.bacnetJs();
const E = B.enums;
const args = C.parseArgs(process.argv.slice(2));
const opt = {
    devices: args.devices,
    interval: Number(args.interval || 1),
    duration: Number(args.duration || 10),
    concurrency: Math.max(1, Math.min(64, Number(args.concurrency || 8))),
    timeout: Number(args.timeout || 3000),
    maxApdu: Math.min(1476, Number(args.max_apdu || 1476)),
    bindIp: args.bind_ip || '127.0.0.1',
    bindPort: Number(args.bind_port || 0),
};

const REPLY_HEADER = 3;     // ComplexACK: type, invoke id, service choice (clause 20.1.5)
const PER_OBJECT = 17;      // the larger of a REAL result (16) and an error result (17)
const REQ_HEADER = 4;       // confirmed request header (clause 20.1.2)
const REQ_PER_OBJECT = 9;   // object id [0] 5, opening [1], property [0] 2, closing [1]

function usage(msg) {
    process.stderr.write(`anchor.js: ${msg}\n`);
    process.exit(2);
}

function chunk(objects, maxApdu) {
    const per = Math.max(1, Math.min(Math.floor((maxApdu - REPLY_HEADER) / PER_OBJECT),
        Math.floor((maxApdu - REQ_HEADER) / REQ_PER_OBJECT)));
    const out = [];
    for (let i = 0; i < objects.length; i += per) out.push(objects.slice(i, i + per));
    return out;
}

function discover(client, devices) {
    return new Promise((resolve) => {
        const seen = new Map();
        const on = (content) => seen.set(content.header.sender.address, content.payload);
        client.on('iAm', on);
        for (const d of devices) {
            client.whoIs({ address: d.address }, d.device !== undefined ? { lowLimit: d.device, highLimit: d.device } : undefined);
        }
        setTimeout(() => { client.removeListener('iAm', on); resolve(seen); }, 500);
    });
}

function percentile(sorted, p) {
    if (!sorted.length) return null;
    return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function main() {
    if (!opt.devices) usage('--devices FILE is required');
    const list = JSON.parse(require('fs').readFileSync(opt.devices, 'utf8'));
    const devices = list.map((d) => ({ address: `${d.ip}:${d.port || 47808}`, device: d.device,
        objects: (d.objects || []).map(C.parseObjectId), maxApdu: d.max_apdu }));
    const transport = C.gateTransport(B.Transport, { port: opt.bindPort, interface: opt.bindIp,
        broadcastAddress: '127.255.255.255', reuseAddr: false }, null);
    const client = new B.Client({ transport, apduTimeout: opt.timeout });
    await new Promise((resolve, reject) => { client.on('listening', resolve); client.on('error', reject); });

    const iams = await discover(client, devices);
    const requests = [];
    for (const d of devices) {
        const iam = iams.get(d.address);
        const maxApdu = Math.min(1476, d.maxApdu || (iam ? iam.maxApdu : opt.maxApdu), opt.maxApdu);
        d.discovered = !!iam;
        d.usedMaxApdu = maxApdu;
        for (const objs of chunk(d.objects, maxApdu)) requests.push({ d, objs });
    }
    const totalPoints = devices.reduce((n, d) => n + d.objects.length, 0);

    const st = { points: 0, errors: 0, requestErrors: 0, pointErrors: 0, requests: 0, cycles: 0, overruns: 0,
        kinds: {}, latency: [] };
    const one = async (r) => {
        const t = process.hrtime.bigint();
        try {
            const res = await client.readPropertyMultiple({ address: r.d.address },
                r.objs.map((o) => ({ objectId: o, properties: [{ id: E.PropertyIdentifier.PRESENT_VALUE, index: E.ASN1_ARRAY_ALL }] })),
                { maxApdu: C.maxApduCode(opt.maxApdu) });
            for (const obj of res.values) {
                for (const v of obj.values) {
                    const bad = !v.value || !v.value.length || v.value[0].type === E.ApplicationTag.ERROR;
                    if (bad) { st.pointErrors++; st.errors++; } else st.points++;
                }
            }
        } catch (e) {
            const kind = /TIMEOUT/.test(e.message) ? 'timeout' : (/Abort/.test(e.message) ? 'abort-or-reject' : (/BacnetError/.test(e.message) ? 'error' : 'other'));
            st.kinds[kind] = (st.kinds[kind] || 0) + 1;
            st.requestErrors++;
            st.errors += r.objs.length;
        }
        st.requests++;
        st.latency.push(Number(process.hrtime.bigint() - t) / 1e6);
    };
    const cycle = async () => {
        let next = 0;
        const worker = async () => { while (next < requests.length) await one(requests[next++]); };
        await Promise.all(Array.from({ length: Math.min(opt.concurrency, requests.length) }, worker));
        st.cycles++;
    };

    const t0 = Date.now();
    const cpu0 = process.cpuUsage();    // the timed run's CPU only (not start-up, not discovery)
    const end = t0 + opt.duration * 1000;
    let due = t0;
    while (due < end) {
        await cycle();
        due += opt.interval * 1000;
        const now = Date.now();
        if (now > due) { if (opt.interval > 0) st.overruns++; due = now; } else if (due < end) await new Promise((r) => setTimeout(r, due - now));
    }
    // The last cycle's interval belongs to the run: wait it out before timing.
    if (opt.interval > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, end - Date.now()));
    const seconds = (Date.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    client.close();
    st.latency.sort((a, b) => a - b);
    C.emitLine({
        points_read: st.points, seconds: Math.round(seconds * 1000) / 1000,
        points_per_s: Math.round((st.points / seconds) * 10) / 10, errors: st.errors,
        request_errors: st.requestErrors, point_errors: st.pointErrors, error_kinds: st.kinds,
        cpu_user_s: cpu.user / 1e6, cpu_system_s: cpu.system / 1e6,
        requests: st.requests, cycles: st.cycles, overruns: st.overruns, points_per_cycle: totalPoints,
        rpm_per_cycle: requests.length, concurrency: opt.concurrency, interval_s: opt.interval,
        latency_ms: { p50: percentile(st.latency, 0.5), p99: percentile(st.latency, 0.99) },
        devices: devices.map((d) => ({ address: d.address, points: d.objects.length, max_apdu: d.usedMaxApdu, discovered: d.discovered })),
        lib: `${B.name} ${B.version}`, node: process.version,
    });
}

main().catch((e) => { process.stderr.write(`anchor.js: ${e.stack || e}\n`); process.exit(1); });
