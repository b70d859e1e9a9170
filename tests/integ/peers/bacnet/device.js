#!/usr/bin/env node
'use strict';
/*
 * device.js - a BACnet/IP device built on the npm stack @bacnet-js/client, an
 * implementation independent of sbems's, for sbems's interoperability tests.
 *
 *   node device.js --ip 127.0.0.2 --port 47808 --device 1234 [--config objects.json]
 *        [--max-apdu 1476] [--vendor-id 999] [--tick-ms 1000] [--freeze]
 *        [--log-reads] [--apdu-timeout 3000] [--retries 3] [--iam-max-apdu N]
 *        [--max-subscriptions 128] [--exit-on-stdin-eof]
 *
 * stdout, one JSON object per line:
 *   {"ready":true, "ip", "port", "device", "objects":[...], ...}  once bound
 *   {"ready":false, "error": "..."}                                 bind failed
 *   {"event":"write"|"subscribe"|"cov"|"reject"|"abort"|"read"|"dropped"|...}
 * stdin (optional), one JSON command per line:
 *   {"cmd":"set","object":"analog-input:1","value":23.5}   physical value change
 *   {"cmd":"set","object":"analog-input:1","fault":true}   status flags
 *   {"cmd":"mute","count":2}       drop the next 2 confirmed requests unanswered
 *   {"cmd":"state","object":"analog-value:1"}   -> {"event":"state",...}
 *   {"cmd":"subscriptions"}                     -> {"event":"subscriptions",...}
 * SIGTERM/SIGINT stop it (exit 0).
 *
 * The library gives the services' codecs and dispatch; the object model, the
 * command prioritization (clause 19.2), the COV reporting (clause 13.1) and
 * the checks the library leaves out are written here.  Where the library is
 * wrong on the wire (see docs/internals/bacnet-interop.md) this script answers
 * itself: Reject for unknown services and undecodable requests (clause 18.8),
 * Abort segmentation-not-supported for replies that do not fit (clause
 * 5.4.5 / 20.1.9), and I-Am with a legal Max-APDU (clause 16.10, 20.1.2.5).
 */
const fs = require('fs');
const readline = require('readline');
const C = require('./lib/common');

const B = C.bacnetJs();
const E = B.enums;
const P = E.PropertyIdentifier;
const T = E.ApplicationTag;
const OT = E.ObjectType;
const EC = E.ErrorClass;
const ER = E.ErrorCode;
const ALL_INDEX = E.ASN1_ARRAY_ALL;
const PROP_LOG_ENABLE = 133;        // clause 21 BACnetPropertyIdentifier log-enable
const PROP_LOG_BUFFER = P.LOG_BUFFER;

const args = C.parseArgs(process.argv.slice(2));
const opt = {
    ip: args.ip || '127.0.0.1',
    port: Number(args.port || 47808),
    device: Number(args.device === undefined ? 1234 : args.device),
    maxApdu: Number(args.max_apdu || 1476),
    vendorId: Number(args.vendor_id === undefined ? 999 : args.vendor_id),
    tickMs: Number(args.tick_ms || 1000),
    freeze: !!args.freeze,
    logReads: !!args.log_reads,
    apduTimeout: Number(args.apdu_timeout || 3000),
    retries: Number(args.retries === undefined ? 3 : args.retries),
    iamMaxApdu: args.iam_max_apdu ? Number(args.iam_max_apdu) : null,
    maxSubscriptions: Number(args.max_subscriptions || 128),
};

class BacError extends Error {
    constructor(cls, code) { super(`${C.enumName(EC, cls)}/${C.enumName(ER, code)}`); this.cls = cls; this.code = code; }
}

/* ---- application data shorthands -------------------------------------- */
const REAL = (v) => ({ type: T.REAL, value: v });
const UNS = (v) => ({ type: T.UNSIGNED_INTEGER, value: v });
const ENUM = (v) => ({ type: T.ENUMERATED, value: v });
const BOOL = (v) => ({ type: T.BOOLEAN, value: !!v });
const STR = (v) => ({ type: T.CHARACTER_STRING, value: String(v) });
const OID = (o) => ({ type: T.OBJECTIDENTIFIER, value: { type: o.type, instance: o.instance } });
const NUL = () => ({ type: T.NULL, value: null });
function BITS(n, set) {
    const bytes = new Array(Math.ceil(n / 8)).fill(0);
    for (const b of set) bytes[b >> 3] |= 1 << (b & 7);
    return { type: T.BIT_STRING, value: { bitsUsed: n, value: bytes } };
}

/* ---- the object model ------------------------------------------------- */

const KIND = {
    [OT.ANALOG_INPUT]: 'analog', [OT.ANALOG_OUTPUT]: 'analog', [OT.ANALOG_VALUE]: 'analog',
    [OT.BINARY_INPUT]: 'binary', [OT.BINARY_OUTPUT]: 'binary', [OT.BINARY_VALUE]: 'binary',
    [OT.MULTI_STATE_INPUT]: 'multistate', [OT.MULTI_STATE_OUTPUT]: 'multistate',
    [OT.MULTI_STATE_VALUE]: 'multistate', [OT.DEVICE]: 'device', [OT.TREND_LOG]: 'trendlog',
};
const INPUTS = new Set([OT.ANALOG_INPUT, OT.BINARY_INPUT, OT.MULTI_STATE_INPUT]);
const OUTPUTS = new Set([OT.ANALOG_OUTPUT, OT.BINARY_OUTPUT, OT.MULTI_STATE_OUTPUT]);
const PV_TAG = { analog: T.REAL, binary: T.ENUMERATED, multistate: T.UNSIGNED_INTEGER };
const ARRAYS = new Set([P.OBJECT_LIST, P.PRIORITY_ARRAY, P.STATE_TEXT, P.PROPERTY_LIST]);

const objects = new Map();      // "type:instance" -> object record
const order = [];               // Object_List order
const key = (o) => `${o.type}:${o.instance}`;

function defaultConfig() {
    return {
        device: { name: `npm-device-${opt.device}` },
        objects: [
            { type: 'analog-input', instance: 1, name: 'Space Temperature', units: 'degrees-celsius',
                value: 21.5, cov_increment: 0.1, drift: { amplitude: 0.5, period_s: 600 } },
            { type: 'analog-value', instance: 1, name: 'Zone Setpoint', units: 'degrees-celsius',
                commandable: true, relinquish_default: 21.0, cov_increment: 0.1 },
            { type: 'binary-output', instance: 1, name: 'Fan Command', relinquish_default: 0 },
            { type: 'multi-state-value', instance: 1, name: 'Occupancy Mode', value: 1,
                states: ['Occupied', 'Unoccupied', 'Standby'] },
            { type: 'trend-log', instance: 1, name: 'Space Temperature Log',
                log: 'analog-input:1', log_interval_s: 1, buffer_size: 100 },
        ],
    };
}

function makeObject(cfg, instance, name) {
    const type = C.objectType(cfg.type);
    const kind = KIND[type];
    if (!kind || kind === 'device') throw new Error(`object type ${cfg.type} is not supported by device.js`);
    const o = {
        type, instance, kind, name, description: cfg.description || '',
        oos: !!cfg.out_of_service, flags: { in_alarm: false, fault: false, overridden: false },
    };
    if (kind === 'trendlog') {
        o.logged = C.parseObjectId(cfg.log);
        o.enable = cfg.enable !== false;
        o.bufferSize = Number(cfg.buffer_size || 100);
        o.intervalCs = Math.round(Number(cfg.log_interval_s || 1) * 100);
        o.stopWhenFull = !!cfg.stop_when_full;
        o.records = [];          // {seq, time, value}
        o.total = 0;             // Total_Record_Count: sequence number of the last record
        return o;
    }
    o.commandable = OUTPUTS.has(type) || (!INPUTS.has(type) && !!cfg.commandable);
    o.priority = new Array(16).fill(null);
    const def = kind === 'analog' ? 0 : (kind === 'binary' ? 0 : 1);
    o.relinquish = cfg.relinquish_default !== undefined ? Number(cfg.relinquish_default) : def;
    o.value = cfg.value !== undefined ? Number(cfg.value) : o.relinquish;
    if (kind === 'analog') {
        o.units = C.unitsId(cfg.units === undefined ? 'no-units' : cfg.units);
        o.covIncrement = Number(cfg.cov_increment === undefined ? 0.1 : cfg.cov_increment);
        if (cfg.drift) o.drift = { amplitude: Number(cfg.drift.amplitude || 0), period: Number(cfg.drift.period_s || 600), base: o.value };
    }
    if (kind === 'binary') {
        o.polarity = 0;
        o.activeText = cfg.active_text || 'On';
        o.inactiveText = cfg.inactive_text || 'Off';
    }
    if (kind === 'multistate') o.states = (cfg.states || ['State 1', 'State 2', 'State 3']).map(String);
    return o;
}

function loadObjects(cfg) {
    const dev = cfg.device || {};
    const device = {
        type: OT.DEVICE, instance: opt.device, kind: 'device',
        name: dev.name || `npm-device-${opt.device}`, description: dev.description || 'sbems test peer (@bacnet-js/client)',
        vendorName: dev.vendor_name || 'sbems test peers', modelName: dev.model_name || 'device.js',
    };
    objects.set(key(device), device);
    order.push(device);
    for (const c of cfg.objects || []) {
        const count = Number(c.count || 1);
        const first = Number(c.instance === undefined ? (c.start || 1) : c.instance);
        for (let i = 0; i < count; i++) {
            const inst = first + i;
            const name = String(c.name || `${c.type} ${inst}`).replace('%d', String(inst));
            const o = makeObject(c, inst, count > 1 && !String(c.name || '').includes('%d') ? `${name} ${inst}` : name);
            if (objects.has(key(o))) throw new Error(`duplicate object ${C.objectIdString(o)}`);
            objects.set(key(o), o);
            order.push(o);
        }
    }
    const names = new Set();
    for (const o of order) {      // clause 12: Object_Name is unique within the device
        if (names.has(o.name)) throw new Error(`duplicate Object_Name "${o.name}"`);
        names.add(o.name);
    }
}

/* Clause 19.2: the value in force is the highest-priority non-NULL slot of
 * Priority_Array, else Relinquish_Default. */
function presentValue(o) {
    if (!o.commandable) return o.value;
    for (let i = 0; i < 16; i++) if (o.priority[i] !== null) return o.priority[i];
    return o.relinquish;
}

function commandPriority(o) {
    for (let i = 0; i < 16; i++) if (o.priority[i] !== null) return i + 1;
    return null;
}

function statusFlags(o) {   // clause 12 Status_Flags: in-alarm, fault, overridden, out-of-service
    const set = [];
    if (o.flags.in_alarm) set.push(0);
    if (o.flags.fault) set.push(1);
    if (o.flags.overridden) set.push(2);
    if (o.oos) set.push(3);
    return set;
}

function pvData(o, v) { return { type: PV_TAG[o.kind], value: v }; }

function propertyIds(o) {
    const common = [P.DESCRIPTION, P.STATUS_FLAGS, P.EVENT_STATE, P.RELIABILITY, P.OUT_OF_SERVICE];
    const cmd = o.commandable ? [P.PRIORITY_ARRAY, P.RELINQUISH_DEFAULT, P.CURRENT_COMMAND_PRIORITY] : [];
    switch (o.kind) {
    case 'analog': return [P.PRESENT_VALUE, ...common, P.UNITS, P.COV_INCREMENT, ...cmd];
    case 'binary': return [P.PRESENT_VALUE, ...common, ...(o.type === OT.BINARY_VALUE ? [] : [P.POLARITY]),
        P.ACTIVE_TEXT, P.INACTIVE_TEXT, ...cmd];
    case 'multistate': return [P.PRESENT_VALUE, ...common, P.NUMBER_OF_STATES, P.STATE_TEXT, ...cmd];
    case 'trendlog': return [P.DESCRIPTION, PROP_LOG_ENABLE, P.STOP_WHEN_FULL, P.BUFFER_SIZE, PROP_LOG_BUFFER,
        P.RECORD_COUNT, P.TOTAL_RECORD_COUNT, P.LOGGING_TYPE, P.LOG_INTERVAL, P.STATUS_FLAGS, P.EVENT_STATE];
    case 'device': return [P.SYSTEM_STATUS, P.VENDOR_NAME, P.VENDOR_IDENTIFIER, P.MODEL_NAME,
        P.FIRMWARE_REVISION, P.APPLICATION_SOFTWARE_VERSION, P.DESCRIPTION, P.PROTOCOL_VERSION,
        P.PROTOCOL_REVISION, P.PROTOCOL_SERVICES_SUPPORTED, P.PROTOCOL_OBJECT_TYPES_SUPPORTED,
        P.OBJECT_LIST, P.MAX_APDU_LENGTH_ACCEPTED, P.SEGMENTATION_SUPPORTED, P.APDU_TIMEOUT,
        P.NUMBER_OF_APDU_RETRIES, P.DEVICE_ADDRESS_BINDING, P.DATABASE_REVISION];
    default: return [];
    }
}

/* Every property the object has, in the order ALL returns them. */
function allPropertyIds(o) {
    return [P.OBJECT_IDENTIFIER, P.OBJECT_NAME, P.OBJECT_TYPE, P.PROPERTY_LIST, ...propertyIds(o)];
}

const SERVICES_SUPPORTED = [E.ServicesSupported.READ_PROPERTY, E.ServicesSupported.READ_PROPERTY_MULTIPLE,
    E.ServicesSupported.WRITE_PROPERTY, E.ServicesSupported.SUBSCRIBE_COV, E.ServicesSupported.READ_RANGE,
    E.ServicesSupported.WHO_IS, E.ServicesSupported.I_AM, E.ServicesSupported.CONFIRMED_COV_NOTIFICATION,
    E.ServicesSupported.UNCONFIRMED_COV_NOTIFICATION];

/*
 * readValue - a property's value as a list of application data (whole
 * property), or for arrays {array: [element, ...]} where each element is a
 * list of application data.  Throws BacError for unknown properties.
 */
function readValue(o, pid) {
    switch (pid) {
    case P.OBJECT_IDENTIFIER: return [OID(o)];
    case P.OBJECT_NAME: return [STR(o.name)];
    case P.OBJECT_TYPE: return [ENUM(o.type)];
    case P.PROPERTY_LIST: return { array: propertyIds(o).map((p) => [ENUM(p)]) };
    default: break;
    }
    if (!propertyIds(o).includes(pid)) throw new BacError(EC.PROPERTY, ER.UNKNOWN_PROPERTY);
    switch (pid) {
    case P.DESCRIPTION: return [STR(o.description || '')];
    case P.STATUS_FLAGS: return [BITS(4, statusFlags(o))];
    case P.EVENT_STATE: return [ENUM(0)];                       // normal
    case P.RELIABILITY: return [ENUM(o.flags.fault ? 7 : 0)];   // unreliable-other / no-fault-detected
    case P.OUT_OF_SERVICE: return [BOOL(o.oos)];
    case P.PRESENT_VALUE: return [pvData(o, presentValue(o))];
    case P.UNITS: return [ENUM(o.units)];
    case P.COV_INCREMENT: return [REAL(o.covIncrement)];
    case P.PRIORITY_ARRAY: return { array: o.priority.map((v) => [v === null ? NUL() : pvData(o, v)]) };
    case P.RELINQUISH_DEFAULT: return [pvData(o, o.relinquish)];
    case P.CURRENT_COMMAND_PRIORITY: {   // BACnetOptionalUnsigned: NULL when relinquished
        const p = commandPriority(o);
        return [p === null ? NUL() : UNS(p)];
    }
    case P.POLARITY: return [ENUM(o.polarity)];
    case P.ACTIVE_TEXT: return [STR(o.activeText)];
    case P.INACTIVE_TEXT: return [STR(o.inactiveText)];
    case P.NUMBER_OF_STATES: return [UNS(o.states.length)];
    case P.STATE_TEXT: return { array: o.states.map((s) => [STR(s)]) };
    case PROP_LOG_ENABLE: return [BOOL(o.enable)];
    case P.STOP_WHEN_FULL: return [BOOL(o.stopWhenFull)];
    case P.BUFFER_SIZE: return [UNS(o.bufferSize)];
    case P.RECORD_COUNT: return [UNS(o.records.length)];
    case P.TOTAL_RECORD_COUNT: return [UNS(o.total)];
    case P.LOGGING_TYPE: return [ENUM(0)];                      // polled
    case P.LOG_INTERVAL: return [UNS(o.intervalCs)];
    case PROP_LOG_BUFFER: throw new BacError(EC.PROPERTY, ER.READ_ACCESS_DENIED);   // ReadRange only
    case P.SYSTEM_STATUS: return [ENUM(0)];                     // operational
    case P.VENDOR_NAME: return [STR(o.vendorName)];
    case P.VENDOR_IDENTIFIER: return [UNS(opt.vendorId)];
    case P.MODEL_NAME: return [STR(o.modelName)];
    case P.FIRMWARE_REVISION: return [STR(`${B.name} ${B.version}`)];
    case P.APPLICATION_SOFTWARE_VERSION: return [STR('device.js 1')];
    case P.PROTOCOL_VERSION: return [UNS(1)];
    case P.PROTOCOL_REVISION: return [UNS(14)];
    case P.PROTOCOL_SERVICES_SUPPORTED: return [BITS(40, SERVICES_SUPPORTED)];
    case P.PROTOCOL_OBJECT_TYPES_SUPPORTED:
        return [BITS(60, [...new Set(order.map((x) => x.type))])];
    case P.OBJECT_LIST: return { array: order.map((x) => [OID(x)]) };
    case P.MAX_APDU_LENGTH_ACCEPTED: return [UNS(opt.maxApdu)];
    case P.SEGMENTATION_SUPPORTED: return [ENUM(E.Segmentation.NO_SEGMENTATION)];
    case P.APDU_TIMEOUT: return [UNS(opt.apduTimeout)];
    case P.NUMBER_OF_APDU_RETRIES: return [UNS(opt.retries)];
    case P.DEVICE_ADDRESS_BINDING: return [];                   // empty list
    case P.DATABASE_REVISION: return [UNS(1)];
    default: throw new BacError(EC.PROPERTY, ER.UNKNOWN_PROPERTY);
    }
}

/* Clauses 15.5 / 15.7: a property, or one element of an array (index 0 = size). */
function readProperty(o, pid, index) {
    const v = readValue(o, pid);
    const isArray = !Array.isArray(v);
    if (index === ALL_INDEX) return isArray ? [].concat(...v.array) : v;
    if (!isArray) throw new BacError(EC.PROPERTY, ER.PROPERTY_IS_NOT_AN_ARRAY);
    if (index === 0) return [UNS(v.array.length)];
    if (index > v.array.length) throw new BacError(EC.PROPERTY, ER.INVALID_ARRAY_INDEX);
    return v.array[index - 1];
}

function findObject(oid) {
    // Clauses 15.5 / 12.11: Device instance 4194303 names the responding device.
    if (oid.type === OT.DEVICE && oid.instance === E.ASN1_MAX_INSTANCE) return order[0];
    const o = objects.get(key(oid));
    if (!o) throw new BacError(EC.OBJECT, ER.UNKNOWN_OBJECT);
    return o;
}

/* ---- writes ----------------------------------------------------------- */

function checkPvDatum(o, d) {
    if (d.type !== PV_TAG[o.kind]) throw new BacError(EC.PROPERTY, ER.INVALID_DATA_TYPE);
    const v = d.value;
    if (o.kind === 'analog' && !Number.isFinite(v)) throw new BacError(EC.PROPERTY, ER.VALUE_OUT_OF_RANGE);
    if (o.kind === 'binary' && v !== 0 && v !== 1) throw new BacError(EC.PROPERTY, ER.VALUE_OUT_OF_RANGE);
    if (o.kind === 'multistate' && (v < 1 || v > o.states.length)) throw new BacError(EC.PROPERTY, ER.VALUE_OUT_OF_RANGE);
    return v;
}

function single(values) {
    if (!values || values.length !== 1) throw new BacError(EC.PROPERTY, ER.INVALID_DATA_TYPE);
    return values[0];
}

/*
 * writeProperty - clause 15.9 with clause 19.2 for commandable properties:
 * a value goes into slot `priority` (1..16, 16 when absent), NULL empties
 * that slot; Present_Value is then re-evaluated.  Non-commandable
 * properties ignore the priority (clause 15.9).
 */
function writeProperty(o, pid, index, values, priority) {
    if (!allPropertyIds(o).includes(pid)) throw new BacError(EC.PROPERTY, ER.UNKNOWN_PROPERTY);
    if (index !== ALL_INDEX && !ARRAYS.has(pid)) throw new BacError(EC.PROPERTY, ER.PROPERTY_IS_NOT_AN_ARRAY);
    const d = single(values);
    switch (pid) {
    case P.PRESENT_VALUE:
        if (!('commandable' in o)) break;
        if (o.commandable) {
            if (d.type === T.NULL) o.priority[priority - 1] = null;
            else o.priority[priority - 1] = checkPvDatum(o, d);
            return;
        }
        if (INPUTS.has(o.type) && !o.oos) throw new BacError(EC.PROPERTY, ER.WRITE_ACCESS_DENIED);
        o.value = checkPvDatum(o, d);
        return;
    case P.RELINQUISH_DEFAULT:
        if (!o.commandable) break;
        o.relinquish = checkPvDatum(o, d);
        return;
    case P.OUT_OF_SERVICE:
        if (!('oos' in o) || o.kind === 'trendlog') break;
        if (d.type !== T.BOOLEAN) throw new BacError(EC.PROPERTY, ER.INVALID_DATA_TYPE);
        o.oos = d.value;
        return;
    case P.COV_INCREMENT:
        if (o.kind !== 'analog') break;
        if (d.type !== T.REAL) throw new BacError(EC.PROPERTY, ER.INVALID_DATA_TYPE);
        if (!(d.value >= 0)) throw new BacError(EC.PROPERTY, ER.VALUE_OUT_OF_RANGE);
        o.covIncrement = d.value;
        return;
    case P.DESCRIPTION:
        if (d.type !== T.CHARACTER_STRING) throw new BacError(EC.PROPERTY, ER.INVALID_DATA_TYPE);
        o.description = d.value;
        return;
    case PROP_LOG_ENABLE:
        if (o.kind !== 'trendlog') break;
        if (d.type !== T.BOOLEAN) throw new BacError(EC.PROPERTY, ER.INVALID_DATA_TYPE);
        o.enable = d.value;
        return;
    case P.RECORD_COUNT:   // Trend Log (clause 12): writing zero empties Log_Buffer
        if (o.kind !== 'trendlog') break;
        if (d.type !== T.UNSIGNED_INTEGER) throw new BacError(EC.PROPERTY, ER.INVALID_DATA_TYPE);
        if (d.value !== 0) throw new BacError(EC.PROPERTY, ER.VALUE_OUT_OF_RANGE);
        o.records = [];
        return;
    default: break;
    }
    throw new BacError(EC.PROPERTY, ER.WRITE_ACCESS_DENIED);
}

/* ---- sending ---------------------------------------------------------- */

let client = null;
let transport = null;
const requestMeta = new Map();   // "sender|invokeId" -> {apduLen, priorityPresent} of the request

function sendRaw(buf, to) { transport.send(buf, buf.length, to); }

function sendAbort(to, invokeId, reason, service) {
    sendRaw(C.rejectOrAbortDatagram(7, invokeId, reason, true), to);
    C.emitLine({ event: 'abort', to, invoke_id: invokeId, service, reason, reason_name: C.enumName(E.AbortReason, reason) });
}

function sendReject(to, invokeId, reason, service) {
    sendRaw(C.rejectOrAbortDatagram(6, invokeId, reason, false), to);
    C.emitLine({ event: 'reject', to, invoke_id: invokeId, service, reason, reason_name: C.enumName(E.RejectReason, reason) });
}

/*
 * sendComplexAck - encode a ComplexACK with the library's encoders into a
 * buffer big enough for anything, then check it against the requester's
 * Max-APDU (and ours, a small device has small buffers too).  This device
 * does not segment, so a reply that does not fit is an Abort with
 * segmentation-not-supported (clause 5.4.5); the library would instead
 * overrun its 1482-octet buffer.  Returns the APDU length or -1.
 */
function apduBuffer(to) {
    const buf = { buffer: Buffer.alloc(65536), offset: 4 };
    B.npdu.encode(buf, E.NpduControlPriority.NORMAL_MESSAGE, { address: to });
    return buf;
}

function sendComplexAck(content, service, encodeBody) {
    const to = content.header.sender.address;
    const buf = apduBuffer(to);
    const start = buf.offset;
    B.apdu.encodeComplexAck(buf, E.PduType.COMPLEX_ACK, service, content.invokeId);
    encodeBody(buf);
    const len = buf.offset - start;
    const limit = Math.min(C.maxApduOctets(content.maxApdu), opt.maxApdu);
    if (len > limit) {
        sendAbort(to, content.invokeId, E.AbortReason.SEGMENTATION_NOT_SUPPORTED, service);
        return -1;
    }
    B.bvlc.encode(buf.buffer, E.BvlcResultPurpose.ORIGINAL_UNICAST_NPDU, buf.offset);
    transport.send(buf.buffer, buf.offset, to);
    return len;
}

function sendError(content, err) {
    client.errorResponse({ address: content.header.sender.address }, content.service, content.invokeId, err.cls, err.code);
}

function sendIAm(to) {
    // The library's iAmResponse() puts its buffer size 1482 into Max-APDU;
    // clause 20.1.2.5 allows 1476 at most, so encode the I-Am here.
    const buf = apduBuffer(to);
    B.apdu.encodeUnconfirmedServiceRequest(buf, E.PduType.UNCONFIRMED_REQUEST, E.UnconfirmedServiceChoice.I_AM);
    B.services.IAm.encode(buf, opt.device, opt.iamMaxApdu || opt.maxApdu, E.Segmentation.NO_SEGMENTATION, opt.vendorId);
    B.bvlc.encode(buf.buffer, E.BvlcResultPurpose.ORIGINAL_UNICAST_NPDU, buf.offset);
    transport.send(buf.buffer, buf.offset, to);
}

function takeMeta(content) {
    const k = `${content.header.sender.address}|${content.invokeId}`;
    const m = requestMeta.get(k) || {};
    requestMeta.delete(k);
    return m;
}

/* ---- service handlers ------------------------------------------------- */

function errJson(e) { return C.errorJson(e.cls, e.code); }

function onReadProperty(content) {
    const { objectId, property } = content.payload;
    const apduLen = takeMeta(content).apduLen;
    let values;
    try {
        // ALL/REQUIRED/OPTIONAL are for ReadPropertyMultiple only (clauses 15.5, 15.7)
        if ([P.ALL, P.REQUIRED, P.OPTIONAL].includes(property.id)) throw new BacError(EC.PROPERTY, ER.UNKNOWN_PROPERTY);
        const o = findObject(objectId);
        values = readProperty(o, property.id, property.index);
        const oid = { type: o.type, instance: o.instance };
        sendComplexAck(content, E.ConfirmedServiceChoice.READ_PROPERTY, (buf) =>
            B.services.ReadProperty.encodeAcknowledge(buf, oid, property.id, property.index, values));
    } catch (e) {
        if (!(e instanceof BacError)) throw e;
        sendError(content, e);
    }
    if (opt.logReads) {
        C.emitLine({ event: 'read', service: 'read-property', from: content.header.sender.address, apdu_len: apduLen,
            object: C.objectIdString(objectId), property: C.enumName(P, property.id) || property.id,
            index: property.index === ALL_INDEX ? null : property.index });
    }
}

function rpmErr(e) { return [{ value: { type: 'BacnetError', errorClass: e.cls, errorCode: e.code } }]; }

/* Clause 15.7: per-property results; a missing object or property is an
 * error inside the ACK, not an Error PDU. */
function onReadPropertyMultiple(content) {
    const specs = content.payload.properties;
    const apduLen = takeMeta(content).apduLen;
    const results = [];
    let items = 0;
    for (const spec of specs) {
        let o = null;
        try { o = findObject(spec.objectId); } catch (e) { if (!(e instanceof BacError)) throw e; o = e; }
        const oid = o instanceof BacError ? spec.objectId : { type: o.type, instance: o.instance };
        const values = [];
        for (const ref of spec.properties) {
            const special = [P.ALL, P.REQUIRED, P.OPTIONAL].includes(ref.id);
            if (o instanceof BacError) {
                values.push({ property: { id: ref.id, index: ref.index }, value: rpmErr(o) });
                continue;
            }
            const ids = special ? allPropertyIds(o) : [ref.id];
            for (const pid of ids) {
                const idx = special ? ALL_INDEX : ref.index;
                let v;
                try { v = readProperty(o, pid, idx); } catch (e) { if (!(e instanceof BacError)) throw e; v = rpmErr(e); }
                values.push({ property: { id: pid, index: idx }, value: v });
            }
        }
        items += values.length;
        results.push({ objectId: oid, values });
    }
    sendComplexAck(content, E.ConfirmedServiceChoice.READ_PROPERTY_MULTIPLE, (buf) =>
        B.services.ReadPropertyMultiple.encodeAcknowledge(buf, results));
    if (opt.logReads) {
        C.emitLine({ event: 'read', service: 'read-property-multiple', from: content.header.sender.address,
            apdu_len: apduLen, objects: specs.length, items });
    }
}

function onWriteProperty(content) {
    const { objectId, value } = content.payload;
    const pid = value.property.id;
    const index = value.property.index;
    const priority = value.priority;   // the library fills in 16 when absent
    const meta = takeMeta(content);
    const ev = {
        event: 'write', from: content.header.sender.address, invoke_id: content.invokeId,
        apdu_len: meta.apduLen, object: C.objectIdString(objectId),
        property: C.enumName(P, pid) || pid, property_id: pid, index: index === ALL_INDEX ? null : index,
        priority: meta.priorityPresent ? priority : null, value: value.value.map(C.jsonValue),
    };
    try {
        const o = findObject(objectId);
        const before = o.kind !== 'device' && o.kind !== 'trendlog' ? presentValue(o) : undefined;
        writeProperty(o, pid, index, value.value, priority);
        client.simpleAckResponse({ address: ev.from }, content.service, content.invokeId);
        ev.result = 'ok';
        if (before !== undefined) {
            ev.present_value = presentValue(o);
            if (o.commandable) ev.priority_array = o.priority.slice();
        }
        C.emitLine(ev);
        checkCov();
    } catch (e) {
        if (!(e instanceof BacError)) throw e;
        sendError(content, e);
        ev.result = 'error';
        ev.error = errJson(e);
        C.emitLine(ev);
    }
}

/* ---- COV (clause 13.1, 13.14) ------------------------------------------ */

const subscriptions = new Map();   // "addr|pid|type:inst" -> subscription

function covValues(o) {
    return { pv: presentValue(o), flags: statusFlags(o).join(',') };
}

function covChanged(o, last) {
    const now = covValues(o);
    if (now.flags !== last.flags) return true;
    if (o.kind === 'analog') return Math.abs(now.pv - last.pv) >= o.covIncrement;
    return now.pv !== last.pv;
}

function timeRemaining(s) {
    if (s.lifetime === 0) return 0;
    return Math.max(0, Math.ceil((s.expires - Date.now()) / 1000));
}

/* Clause 13.1: a COV notification carries Present_Value and Status_Flags. */
function sendNotification(s, o) {
    const pv = presentValue(o);
    s.last = covValues(o);
    // The property index and priority are left undefined on purpose: the
    // library's CovNotify.encode writes them when they equal "array all" /
    // "no priority" (its tests are inverted), which would put bogus fields on
    // the wire.
    const values = [
        { property: { id: P.PRESENT_VALUE }, value: [pvData(o, pv)] },
        { property: { id: P.STATUS_FLAGS }, value: [BITS(4, statusFlags(o))] },
    ];
    const oid = { type: o.type, instance: o.instance };
    const ev = { event: 'cov', to: s.address, process_id: s.processId, object: C.objectIdString(oid),
        confirmed: s.confirmed, present_value: pv, status_flags: statusFlags(o), time_remaining: timeRemaining(s) };
    if (!s.confirmed) {
        client.unconfirmedCOVNotification({ address: s.address }, s.processId, opt.device, oid, ev.time_remaining, values);
        ev.result = 'sent';
        C.emitLine(ev);
        return;
    }
    const attempt = (n) => {
        client.confirmedCOVNotification({ address: s.address }, oid, s.processId, opt.device, ev.time_remaining, values)
            .then(() => { ev.result = 'ack'; ev.attempts = n; C.emitLine(ev); })
            .catch((err) => {
                if (String(err.message).includes('TIMEOUT') && n <= opt.retries) return attempt(n + 1);
                ev.result = String(err.message).includes('TIMEOUT') ? 'timeout' : 'error';
                ev.detail = String(err.message);
                ev.attempts = n;
                C.emitLine(ev);
                return undefined;
            });
    };
    attempt(1);
}

function onSubscribeCov(content) {
    const p = content.payload;
    const from = content.header.sender.address;
    const ev = { event: 'subscribe', from, invoke_id: content.invokeId, process_id: p.subscriberProcessId,
        object: C.objectIdString(p.monitoredObjectId), cancel: !!p.cancellationRequest,
        confirmed: !!p.issueConfirmedNotifications, lifetime: p.lifetime === undefined ? null : p.lifetime };
    const k = `${from}|${p.subscriberProcessId}|${key(p.monitoredObjectId)}`;
    try {
        const o = findObject(p.monitoredObjectId);
        if (!['analog', 'binary', 'multistate'].includes(o.kind)) throw new BacError(EC.OBJECT, ER.OPTIONAL_FUNCTIONALITY_NOT_SUPPORTED);
        if (p.cancellationRequest) {
            // Clause 13.14: cancelling a subscription that does not exist still succeeds.
            ev.existed = subscriptions.delete(k);
            client.simpleAckResponse({ address: from }, content.service, content.invokeId);
            ev.result = 'ok';
            C.emitLine(ev);
            return;
        }
        if (!subscriptions.has(k) && subscriptions.size >= opt.maxSubscriptions) {
            throw new BacError(EC.RESOURCES, ER.NO_SPACE_TO_ADD_LIST_ELEMENT);
        }
        const lifetime = p.lifetime || 0;   // 0 or absent: indefinite (clause 13.14)
        const s = { address: from, processId: p.subscriberProcessId, oid: { type: o.type, instance: o.instance },
            confirmed: !!p.issueConfirmedNotifications, lifetime, expires: Date.now() + lifetime * 1000, last: null };
        subscriptions.set(k, s);
        client.simpleAckResponse({ address: from }, content.service, content.invokeId);
        ev.result = 'ok';
        C.emitLine(ev);
        // Clause 13.14: a notification follows a successful subscription at once.
        setImmediate(() => sendNotification(s, o));
    } catch (e) {
        if (!(e instanceof BacError)) throw e;
        sendError(content, e);
        ev.result = 'error';
        ev.error = errJson(e);
        C.emitLine(ev);
    }
}

function checkCov() {
    const now = Date.now();
    for (const [k, s] of subscriptions) {
        if (s.lifetime && now >= s.expires) {
            subscriptions.delete(k);
            C.emitLine({ event: 'subscription-expired', to: s.address, process_id: s.processId, object: C.objectIdString(s.oid) });
            continue;
        }
        const o = objects.get(key(s.oid));
        if (s.last && covChanged(o, s.last)) sendNotification(s, o);
    }
}

/* ---- ReadRange on a Trend Log (clause 15.8) ---------------------------- */

function encodeLogRecord(r) {
    // BACnetLogRecord: timestamp [0] BACnetDateTime, log-datum [1] CHOICE
    // { real-value [2] }, status-flags [2] (clause 21).
    const buf = { buffer: Buffer.alloc(64), offset: 0 };
    B.asn1.encodeOpeningTag(buf, 0);
    B.asn1.encodeApplicationDate(buf, r.time);
    B.asn1.encodeApplicationTime(buf, r.time);
    B.asn1.encodeClosingTag(buf, 0);
    B.asn1.encodeOpeningTag(buf, 1);
    B.asn1.encodeContextReal(buf, 2, r.value);
    B.asn1.encodeClosingTag(buf, 1);
    B.asn1.encodeContextBitstring(buf, 2, BITS(4, r.flags).value);
    return buf.buffer.subarray(0, buf.offset);
}

/* Which records a range selects: clause 15.8 (by position, by
 * sequence number, by time); returns [firstIdx, lastIdx] into o.records. */
function selectRange(o, p) {
    const recs = o.records;
    const n = recs.length;
    const RT = E.ReadRangeType;
    if (p.requestType === undefined) return n ? [0, n - 1] : null;
    const count = p.count;
    if (count === 0) return null;
    let ref;
    if (p.requestType === RT.BY_POSITION) ref = p.position - 1;
    else if (p.requestType === RT.BY_SEQUENCE_NUMBER) ref = recs.findIndex((r) => r.seq === p.position);
    else {
        const t = p.time.getTime();
        if (count > 0) {
            const i = recs.findIndex((r) => r.time.getTime() > t);
            return i < 0 ? null : [i, Math.min(n - 1, i + count - 1)];
        }
        let j = -1;
        for (let i = n - 1; i >= 0; i--) if (recs[i].time.getTime() < t) { j = i; break; }
        return j < 0 ? null : [Math.max(0, j + count + 1), j];
    }
    if (ref < 0 || ref >= n) return null;
    return count > 0 ? [ref, Math.min(n - 1, ref + count - 1)] : [Math.max(0, ref + count + 1), ref];
}

function onReadRange(content) {
    const p = content.payload;
    try {
        const o = findObject(p.objectId);
        if (p.property.id !== PROP_LOG_BUFFER || o.kind !== 'trendlog') {
            readValue(o, p.property.id);   // unknown-property first
            throw new BacError(EC.SERVICES, ER.PROPERTY_IS_NOT_A_LIST);
        }
        if (p.property.index !== ALL_INDEX) throw new BacError(EC.PROPERTY, ER.PROPERTY_IS_NOT_AN_ARRAY);
        const sel = selectRange(o, p);
        const [lo, hi] = sel || [0, -1];
        const limit = Math.min(C.maxApduOctets(content.maxApdu), opt.maxApdu);
        // Clause 15.8: as many items as fit; a shortened answer sets
        // MORE_ITEMS.  A negative count keeps the items next to the reference.
        const build = (k) => (buf) => {
            const rlo = p.count < 0 ? hi - k + 1 : lo;
            const rhi = rlo + k - 1;
            const flags = [];
            if (k > 0 && rlo === 0) flags.push(E.ResultFlags.FIRST_ITEM);
            if (k > 0 && rhi === o.records.length - 1) flags.push(E.ResultFlags.LAST_ITEM);
            if (k < hi - lo + 1) flags.push(E.ResultFlags.MORE_ITEMS);
            const recs = o.records.slice(rlo, rhi + 1);
            B.services.ReadRange.encodeAcknowledge(buf, { type: o.type, instance: o.instance }, PROP_LOG_BUFFER,
                ALL_INDEX, BITS(3, flags).value, k, Buffer.concat(recs.map(encodeLogRecord)), p.requestType,
                k > 0 ? recs[0].seq : 0);
        };
        let take = hi - lo + 1;
        for (; take > 0; take--) {
            const probe = { buffer: Buffer.alloc(65536), offset: 0 };
            build(take)(probe);
            if (probe.offset + 3 <= limit) break;   // + ComplexACK header
        }
        sendComplexAck(content, E.ConfirmedServiceChoice.READ_RANGE, build(take));
        if (opt.logReads) C.emitLine({ event: 'read', service: 'read-range', from: content.header.sender.address, items: take });
    } catch (e) {
        if (!(e instanceof BacError)) throw e;
        sendError(content, e);
    }
}

/* ---- the gate: what the library would drop or answer wrongly ----------- */

const HANDLED = {   // confirmed services this device implements -> library decoder
    [E.ConfirmedServiceChoice.READ_PROPERTY]: B.services.ReadProperty,
    [E.ConfirmedServiceChoice.READ_PROPERTY_MULTIPLE]: B.services.ReadPropertyMultiple,
    [E.ConfirmedServiceChoice.WRITE_PROPERTY]: B.services.WriteProperty,
    [E.ConfirmedServiceChoice.SUBSCRIBE_COV]: B.services.SubscribeCov,
    [E.ConfirmedServiceChoice.READ_RANGE]: B.services.ReadRange,
};
let muted = 0;

/*
 * Reject reason for a request the library cannot decode (clause 18.8).
 * WriteProperty with a priority outside 1..16 is the one case told apart:
 * parameter-out-of-range; everything else is invalid-tag, or
 * missing-required-parameter when the service data is empty.
 */
/* A WriteProperty request ends with closing tag [3] (0x3F), or with it and
 * then priority [4] in one octet (0x49 NN): clause 15.9. */
function wpPriority(msg) {
    const n = msg.length;
    return n >= 3 && msg[n - 3] === 0x3f && msg[n - 2] === 0x49 ? msg[n - 1] : null;
}

function rejectReason(service, msg, start, len) {
    if (len <= 0) return E.RejectReason.MISSING_REQUIRED_PARAMETER;
    if (service === E.ConfirmedServiceChoice.WRITE_PROPERTY) {
        const pr = wpPriority(msg);
        if (pr !== null && (pr < 1 || pr > 16)) return E.RejectReason.PARAMETER_OUT_OF_RANGE;
    }
    return E.RejectReason.INVALID_TAG;
}

function gate(msg, sender) {
    if (!C.bvlcLengthOk(msg)) {
        C.emitLine({ event: 'dropped', from: sender, reason: 'bvlc-length', length: msg.length });
        return true;
    }
    const h = C.peekApdu(msg);
    if (!h || h.pduType !== 0) return false;
    if (muted > 0) {
        muted--;
        C.emitLine({ event: 'dropped', from: sender, invoke_id: h.invokeId, service: h.service });
        return true;
    }
    if (h.segmented) {   // Segmentation_Supported = no-segmentation
        sendAbort(sender, h.invokeId, E.AbortReason.SEGMENTATION_NOT_SUPPORTED, h.service);
        return true;
    }
    const svc = HANDLED[h.service];
    if (!svc) {   // the library answers Error(services, reject-unrecognized-service) or nothing
        sendReject(sender, h.invokeId, E.RejectReason.UNRECOGNIZED_SERVICE, h.service);
        return true;
    }
    const start = h.off + h.headerLen;
    const len = msg.length - start;
    let ok;
    try { ok = svc.decode(msg, start, len); } catch (e) { ok = undefined; }
    if (!ok) {   // the library silently drops requests it cannot decode
        sendReject(sender, h.invokeId, rejectReason(h.service, msg, start, len), h.service);
        return true;
    }
    if (requestMeta.size > 1024) requestMeta.clear();   // entries of requests never handled
    requestMeta.set(`${sender}|${h.invokeId}`, { apduLen: h.len,
        priorityPresent: h.service === E.ConfirmedServiceChoice.WRITE_PROPERTY && wpPriority(msg) !== null });
    return false;
}

/* ---- the world: drift, trend logging, stdin commands ------------------- */

const t0 = Date.now();

function tick() {
    if (!opt.freeze) {
        const t = (Date.now() - t0) / 1000;
        for (const o of order) {
            if (!o.drift || o.oos) continue;
            const v = o.drift.base + o.drift.amplitude * Math.sin(2 * Math.PI * t / o.drift.period);
            o.value = Math.round(v * 1000) / 1000;
        }
    }
    checkCov();
}

function logSample(tl) {
    if (!tl.enable) return;
    if (tl.stopWhenFull && tl.records.length >= tl.bufferSize) return;
    const src = objects.get(key(tl.logged));
    if (!src || !('commandable' in src)) return;
    tl.total = (tl.total + 1) >>> 0;   // sequence numbers run 1..2^32-1 (Trend Log, clause 12)
    tl.records.push({ seq: tl.total, time: new Date(Math.floor(Date.now() / 10) * 10), value: Number(presentValue(src)),
        flags: statusFlags(src) });
    if (tl.records.length > tl.bufferSize) tl.records.shift();
}

function objectState(o) {
    const st = { event: 'state', object: C.objectIdString(o), name: o.name };
    if ('commandable' in o) {
        Object.assign(st, { present_value: presentValue(o), out_of_service: o.oos, status_flags: statusFlags(o) });
        if (o.commandable) Object.assign(st, { priority_array: o.priority.slice(), relinquish_default: o.relinquish,
            current_command_priority: commandPriority(o) });
    }
    if (o.kind === 'trendlog') Object.assign(st, { record_count: o.records.length, total_record_count: o.total,
        first_seq: o.records.length ? o.records[0].seq : null });
    return st;
}

function onCommand(line) {
    let c;
    try { c = JSON.parse(line); } catch (e) { C.emitLine({ event: 'command-error', error: 'bad JSON' }); return; }
    try {
        if (c.cmd === 'set') {
            const o = findObject(C.parseObjectId(c.object));
            if (!('commandable' in o)) throw new Error('not a value object');
            if (c.value !== undefined) {
                if (o.commandable) throw new Error('commandable: use WriteProperty');
                o.value = Number(c.value);
                if (o.drift) o.drift.base = o.value;
                if (o.drift && !c.keep_drift) o.drift.amplitude = 0;   // a set value stays put
            }
            for (const f of ['in_alarm', 'fault', 'overridden']) if (c[f] !== undefined) o.flags[f] = !!c[f];
            if (c.out_of_service !== undefined) o.oos = !!c.out_of_service;
            C.emitLine(Object.assign(objectState(o), { event: 'set' }));
            checkCov();
        } else if (c.cmd === 'mute') {
            muted = Number(c.count || 1);
            C.emitLine({ event: 'muted', count: muted });
        } else if (c.cmd === 'state') {
            C.emitLine(objectState(findObject(C.parseObjectId(c.object))));
        } else if (c.cmd === 'subscriptions') {
            C.emitLine({ event: 'subscriptions', list: [...subscriptions.values()].map((s) => ({
                to: s.address, process_id: s.processId, object: C.objectIdString(s.oid), confirmed: s.confirmed,
                lifetime: s.lifetime, time_remaining: timeRemaining(s) })) });
        } else {
            throw new Error(`unknown cmd ${c.cmd}`);
        }
    } catch (e) {
        C.emitLine({ event: 'command-error', cmd: c.cmd, error: e.message });
    }
}

/* ---- main ------------------------------------------------------------- */

function main() {
    const cfg = args.config ? JSON.parse(fs.readFileSync(args.config, 'utf8')) : defaultConfig();
    loadObjects(cfg);
    const safeGate = (msg, sender) => {
        try { return gate(msg, sender); } catch (e) {
            C.emitLine({ event: 'internal-error', error: String(e.stack || e) });
            return true;
        }
    };
    transport = C.gateTransport(B.Transport, { port: opt.port, interface: opt.ip,
        broadcastAddress: '127.255.255.255', reuseAddr: false }, safeGate);
    client = new B.Client({ transport, apduTimeout: opt.apduTimeout });
    let ready = false;
    client.on('error', (err) => {
        if (ready) { C.emitLine({ event: 'socket-error', error: String(err.message || err) }); return; }
        C.emitLine({ ready: false, error: String(err.message || err) });
        process.exit(1);
    });
    client.on('whoIs', (content) => {
        const { lowLimit, highLimit } = content.payload;
        // Clause 16.10: no limits, or our instance within them.
        if (lowLimit !== undefined && highLimit !== undefined && (opt.device < lowLimit || opt.device > highLimit)) return;
        // Unicast reply: a broadcast I-Am does not reach sockets bound to 127.0.0.x.
        sendIAm(content.header.sender.address);
        C.emitLine({ event: 'who-is', from: content.header.sender.address, low: lowLimit === undefined ? null : lowLimit,
            high: highLimit === undefined ? null : highLimit });
    });
    const guard = (fn) => (content) => {
        try { fn(content); } catch (e) {
            C.emitLine({ event: 'internal-error', error: String(e.stack || e) });
            sendAbort(content.header.sender.address, content.invokeId, E.AbortReason.OTHER, content.service);
        }
    };
    client.on('readProperty', guard(onReadProperty));
    client.on('readPropertyMultiple', guard(onReadPropertyMultiple));
    client.on('writeProperty', guard(onWriteProperty));
    client.on('subscribeCov', guard(onSubscribeCov));
    client.on('readRange', guard(onReadRange));
    client.on('listening', () => {
        const addr = transport._server.address();
        setInterval(tick, opt.tickMs).unref();
        for (const tl of order.filter((o) => o.kind === 'trendlog')) {
            logSample(tl);
            setInterval(() => logSample(tl), tl.intervalCs * 10).unref();
        }
        ready = true;
        C.emitLine({ ready: true, ip: addr.address, port: addr.port, device: opt.device, pid: process.pid,
            max_apdu: opt.maxApdu, vendor_id: opt.vendorId, lib: `${B.name} ${B.version}`,
            objects: order.map(C.objectIdString), names: order.map((o) => o.name) });
    });
    const stop = () => { C.emitLine({ event: 'stopped' }); try { client.close(); } catch (e) { /* closing anyway */ } process.exit(0); };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    const rl = readline.createInterface({ input: process.stdin });
    rl.on('line', (l) => { if (l.trim()) onCommand(l); });
    // stdin may be /dev/null: keep serving, unless told that EOF means the
    // parent (a test) is gone.
    rl.on('close', () => { if (args.exit_on_stdin_eof) stop(); });
    // Keep the process alive even with stdin closed and timers unref'd.
    setInterval(() => {}, 1 << 30);
}

try {
    main();
} catch (e) {
    C.emitLine({ ready: false, error: String(e.message || e) });
    process.exit(2);
}
