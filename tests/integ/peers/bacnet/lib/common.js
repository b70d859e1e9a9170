'use strict';
/*
 * common.js - shared helpers for the npm BACnet/IP peers (device.js, client.js,
 * bench/bacnet/anchor.js).  Plain CommonJS / ES2020 so it runs on Node 18.
 *
 * What lives here:
 *  - loaders for the two npm stacks (@bacnet-js/client and node-bacnet) and
 *    the internal codec modules of @bacnet-js/client (deep requires: the
 *    package has no "exports" map, and the peers need its encoders to size
 *    and build replies themselves);
 *  - a "gate" transport: the library's own UDP transport with a hook that
 *    sees every datagram before the library does (to answer what the library
 *    drops or gets wrong) and that always names the sender "ip:port" (the
 *    libraries drop any request from "127.0.0.1" because they print port
 *    47808 as nothing, see docs/internals/bacnet-interop.md);
 *  - a small BVLL/NPDU/APDU header peek (ANSI/ASHRAE 135-2020 annex J.2,
 *    clause 6.2, clause 20.1) used to tell Reject from Abort, which both
 *    libraries report as the same "BacnetAbort" error;
 *  - names <-> numbers for object types, properties, units, error/reject/abort
 *    codes, and JSON <-> BACnet application data conversions.
 */
const path = require('path');

const BACNET_JS_DIR = path.dirname(require.resolve('@bacnet-js/client/package.json'));

function bacnetJs() {
    const lib = (m) => require(path.join(BACNET_JS_DIR, 'dist', 'lib', m));
    const idx = require('@bacnet-js/client');
    return {
        name: '@bacnet-js/client',
        version: require('@bacnet-js/client/package.json').version,
        Client: idx.default,
        Transport: lib('transport').default,
        enums: lib('enum'),
        asn1: lib('asn1'),
        apdu: lib('apdu'),
        npdu: lib('npdu'),
        bvlc: lib('bvlc'),
        services: lib('services'),
    };
}

function nodeBacnet() {
    const dir = path.dirname(require.resolve('node-bacnet/package.json'));
    return {
        name: 'node-bacnet',
        version: require('node-bacnet/package.json').version,
        Client: require('node-bacnet'),
        Transport: require(path.join(dir, 'lib', 'transport.js')),
        enums: require('node-bacnet').enum,
    };
}

const E = bacnetJs().enums;   // names for both libraries (same numbering: the standard's)

/* ---- names and numbers ------------------------------------------------- */

function kebab(s) { return String(s).toLowerCase().replace(/_/g, '-'); }

function enumName(enumObj, n) {
    const s = enumObj[n];
    return typeof s === 'string' ? kebab(s) : null;
}

function enumValue(enumObj, v, what) {
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
    const key = String(v).toUpperCase().replace(/-/g, '_');
    if (typeof enumObj[key] === 'number') return enumObj[key];
    throw Object.assign(new Error(`unknown ${what} "${v}"`), { usage: true });
}

const objectType = (v) => enumValue(E.ObjectType, v, 'object type');
const propertyId = (v) => enumValue(E.PropertyIdentifier, v, 'property');
const unitsId = (v) => enumValue(E.EngineeringUnits, v, 'units');

/* "analog-value:1", "2:1", {type, instance} -> {type, instance} */
function parseObjectId(v) {
    if (v && typeof v === 'object') return { type: objectType(v.type), instance: Number(v.instance) };
    const m = /^([A-Za-z0-9_-]+):(\d+)$/.exec(String(v));
    if (!m) throw Object.assign(new Error(`bad object id "${v}" (want type:instance)`), { usage: true });
    return { type: objectType(m[1]), instance: Number(m[2]) };
}

function objectIdString(o) {
    return `${enumName(E.ObjectType, o.type) || o.type}:${o.instance}`;
}

const MAX_APDU_OCTETS = [50, 128, 206, 480, 1024, 1476];   // clause 20.1.2.5

function maxApduCode(octets) {
    for (let i = MAX_APDU_OCTETS.length - 1; i >= 0; i--)
        if (octets >= MAX_APDU_OCTETS[i]) return i;
    return 0;
}

function maxApduOctets(code) {
    return code < MAX_APDU_OCTETS.length ? MAX_APDU_OCTETS[code] : 1476;
}

/* ---- JSON <-> application data ----------------------------------------- */

const TAG_BY_NAME = {
    null: 0, boolean: 1, unsigned: 2, signed: 3, real: 4, double: 5, octetstring: 6,
    charstring: 7, characterstring: 7, string: 7, bitstring: 8, enumerated: 9, enum: 9,
    date: 10, time: 11, objectid: 12, object: 12,
};

/* One JSON value + type name -> one BACNetAppData for an encoder. */
function appData(value, type) {
    if (value === null || type === 'null') return { type: 0, value: null };
    const tag = typeof type === 'number' ? type : TAG_BY_NAME[String(type || '').toLowerCase()];
    if (tag === undefined) throw Object.assign(new Error(`unknown value type "${type}"`), { usage: true });
    switch (tag) {
    case 1: return { type: 1, value: !!value };
    case 2: case 3: case 4: case 5: return { type: tag, value: Number(value) };
    case 7: return { type: 7, value: String(value) };
    case 9: return { type: 9, value: typeof value === 'number' ? value : Number(value) };
    case 12: return { type: 12, value: parseObjectId(value) };
    default: throw new Error(`value type ${type} is not supported by this peer`);
    }
}

/* One decoded BACNetAppData -> JSON the tests can compare. */
function jsonValue(v) {
    const tag = v.type;
    const out = { type: enumName(E.ApplicationTag, tag) || tag, tag };
    let val = v.value;
    if (tag === 12 && val) val = objectIdString(val);
    else if (tag === 8 && val) {
        const bits = [];
        for (let i = 0; i < val.bitsUsed; i++) bits.push(!!(val.value[i >> 3] & (1 << (i & 7))));
        val = bits;
    } else if (val instanceof Date) val = isNaN(val) ? null : val.toISOString();
    else if (tag === 105 /* ERROR in the library's own numbering */ && val) {
        return { error: errorJson(val.errorClass, val.errorCode) };
    } else if (Buffer.isBuffer(val)) val = val.toString('hex');
    else if (val && typeof val === 'object' && !Array.isArray(val)) val = JSON.parse(JSON.stringify(val));
    out.value = val;
    if (v.encoding !== undefined && tag === 7) out.encoding = v.encoding;
    return out;
}

function errorJson(cls, code) {
    return { class: cls, code, class_name: enumName(E.ErrorClass, cls), code_name: enumName(E.ErrorCode, code) };
}

/* ---- the gate transport ------------------------------------------------ */

/*
 * peekApdu - where the APDU starts in one BACnet/IP datagram and its header.
 * BVLL (annex J.2): 0x81, function, 2-octet length; Forwarded-NPDU carries
 * 6 more octets of B/IP address.  NPDU (clause 6.2): version 1, control,
 * optional DNET/DLEN/DADR, SNET/SLEN/SADR, hop count.  Returns null when the
 * datagram is not a BVLL unicast/broadcast/forwarded NPDU with an APDU.
 */
function bvlcLengthOk(msg) {
    // Annex J.2: the BVLC Length is the whole BVLL message; a datagram that
    // disagrees is malformed (the libraries do not check this).
    return msg.length >= 4 && msg[0] === 0x81 && msg.readUInt16BE(2) === msg.length;
}

function peekApdu(msg) {
    if (msg.length < 6 || msg[0] !== 0x81) return null;
    const func = msg[1];
    if (func !== 0x0a && func !== 0x0b && func !== 0x04 && func !== 0x09) return null;
    let off = func === 0x04 ? 10 : 4;
    if (msg.length < off + 2 || msg[off] !== 1) return null;
    const ctrl = msg[off + 1];
    off += 2;
    if (ctrl & 0x20) { if (msg.length < off + 3) return null; off += 3 + msg[off + 2]; }
    if (ctrl & 0x08) { if (msg.length < off + 3) return null; off += 3 + msg[off + 2]; }
    if (ctrl & 0x20) off += 1;
    if (ctrl & 0x80 || off >= msg.length) return null;   // network-layer message
    const b0 = msg[off];
    const h = { off, pduType: b0 >> 4, flags: b0 & 0x0f, len: msg.length - off, expectingReply: !!(ctrl & 0x04) };
    switch (h.pduType) {
    case 0:   // confirmed request (clause 20.1.2)
        if (h.len < 4) return null;
        h.segmented = !!(b0 & 0x08);
        h.maxApdu = msg[off + 1] & 0x0f;
        h.invokeId = msg[off + 2];
        h.service = msg[off + (h.segmented ? 5 : 3)];
        h.headerLen = h.segmented ? 6 : 4;
        break;
    case 1: h.service = msg[off + 1]; h.headerLen = 2; break;
    case 2: case 3: case 5: case 6: case 7:
        if (h.len < 3) return null;
        h.invokeId = msg[off + 1];
        h.reason = msg[off + 2];   // service choice for acks/errors, reason for reject/abort
        h.server = !!(b0 & 0x01);
        break;
    default: break;
    }
    return h;
}

function senderString(addr) {
    // The transports print port 47808 as nothing ("127.0.0.1"); always say it.
    return /:\d+$/.test(addr) ? addr : `${addr}:47808`;
}

/*
 * gateTransport - the library's Transport class, subclassed so that hook(msg,
 * sender) runs first for every datagram; it returns true to swallow the
 * datagram (it answered it itself) or false to pass it on to the library.
 */
function gateTransport(TransportClass, settings, hook) {
    class Gate extends TransportClass {
        emit(ev, ...args) {
            if (ev === 'message') {
                const sender = senderString(args[1]);
                if (hook && hook(args[0], sender)) return true;
                try {
                    return super.emit('message', args[0], sender);
                } catch (e) {
                    // The libraries' decoders throw on some malformed PDUs
                    // (e.g. an Error PDU whose enumeration length is 66) from
                    // inside the socket's handler, which would end the
                    // process; report it and drop the datagram instead.
                    emitLine({ event: 'library-exception', from: sender, error: String(e.message || e),
                        datagram: args[0].toString('hex').slice(0, 200) });
                    return true;
                }
            }
            return super.emit(ev, ...args);
        }

        open() {
            // Bind exactly what was asked: @bacnet-js/client's open() turns
            // port 0 (any free port) into 47808.
            this._server.bind(this._settings.port, this._settings.interface, () => this._server.setBroadcast(true));
        }
    }
    return new Gate(settings);
}

/* Raw Reject / Abort APDUs in a B/IP unicast (clause 20.1.8, 20.1.9). */
function rejectOrAbortDatagram(pduType, invokeId, reason, server) {
    const b = Buffer.from([0x81, 0x0a, 0x00, 0x09, 0x01, 0x00,
        (pduType << 4) | (server ? 1 : 0), invokeId & 0xff, reason & 0xff]);
    return b;
}

/* ---- small process helpers -------------------------------------------- */

function emitLine(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }

/* --key value --flag ... -> {key: value, flag: true}; positional args in _ */
function parseArgs(argv) {
    const out = { _: [] };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (!a.startsWith('--')) { out._.push(a); continue; }
        const eq = a.indexOf('=');
        let key, val;
        if (eq > 0) { key = a.slice(2, eq); val = a.slice(eq + 1); }
        else {
            key = a.slice(2);
            if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) val = argv[++i];
            else val = true;
        }
        out[key.replace(/-/g, '_')] = val;
    }
    return out;
}

module.exports = {
    bacnetJs, nodeBacnet, E, kebab, enumName, enumValue, objectType, propertyId, unitsId,
    parseObjectId, objectIdString, maxApduCode, maxApduOctets, MAX_APDU_OCTETS,
    appData, jsonValue, errorJson, peekApdu, bvlcLengthOk, senderString, gateTransport,
    rejectOrAbortDatagram, emitLine, parseArgs,
};
