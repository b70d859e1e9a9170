/**
 * The simulated office as `sbems-sim --site-json` describes it (meters
 * mtr-main with lighting, plugs and HVAC sub-meters, the chiller under
 * HVAC; every meter with an energy counter and a power point), and an sbems
 * that answers history requests for any range by generating buckets the way
 * the server aligns them (days at local midnight in America/New_York, hours
 * at local HH:00, 15-minute buckets on the UTC grid).
 *
 * Now: Friday 2026-11-27 10:37:12 EST (15:37:12 UTC).
 */
import type { Building, Equipment, History, HistoryBucket, Point, Zone } from '../api/types';
import type { Accuracy, Cost, ForecastReport, Holiday, LoadForecast, Measure, Models, Savings, Tariff, TempPrediction } from '../api/analytics';
import { addDays } from '../lib/analytics';
import { apiError, empty, json, tokens } from './fetchMock';
import type { Call } from './fetchMock';

export const A_NOW = Date.UTC(2026, 10, 27, 15, 37, 12);
export const TZ = 'America/New_York';

export const A_BUILDING: Building = { id: 'hpo', site: 'harbor-point', name: 'Harbor Point Office', timezone: TZ };

const meter = (id: string, name: string, parent?: string): Equipment =>
  ({ id, building: 'hpo', name, type: 'meter', ...(parent ? { parent } : {}), tags: ['elec', 'meter', 'equip'] });

export const A_EQUIPMENT: Equipment[] = [
  meter('mtr-main', 'Main electricity meter'),
  meter('mtr-lighting', 'Lighting sub-meter', 'mtr-main'),
  meter('mtr-plugs', 'Plug loads sub-meter', 'mtr-main'),
  meter('mtr-hvac', 'HVAC sub-meter', 'mtr-main'),
  meter('mtr-chiller', 'Chiller sub-meter', 'mtr-hvac'),
  { id: 'ahu-1', building: 'hpo', name: 'AHU 1', type: 'ahu' },
];

const modbus = (poll_s: number) => ({ driver: 'modbus' as const, address: {}, poll_s });
let pid = 1;
const pt = (equipment: string, q: 'power' | 'energy', unit: string): Point =>
  ({ id: `${equipment}.${q}`, equipment, name: q === 'power' ? 'Active power' : 'Active energy', kind: q, unit, point_id: pid++, source: modbus(q === 'power' ? 15 : 60) });

export const A_POINTS: Point[] = [
  pt('mtr-main', 'power', 'kW'), pt('mtr-main', 'energy', 'Wh'),
  ...['mtr-lighting', 'mtr-plugs', 'mtr-hvac', 'mtr-chiller'].flatMap((m) => [pt(m, 'power', 'W'), pt(m, 'energy', 'kWh')]),
  { id: 'ahu-1.sat', equipment: 'ahu-1', name: 'Supply air temperature', kind: 'temperature', unit: '°C', point_id: 99, source: { driver: 'bacnet', poll_s: 60 } },
];

/**
 * kWh per local day of each meter: other = 2000 - (400 + 300 + 900) = 400;
 * the chiller's 500 is part of HVAC's 900.
 */
export const DAILY_KWH: Record<string, number> = {
  'mtr-main.energy': 2000,
  'mtr-lighting.energy': 400,
  'mtr-plugs.energy': 300,
  'mtr-hvac.energy': 900,
  'mtr-chiller.energy': 500,
};

/** Before this week (Monday 2026-11-23 local) and in 2026, each hour used 25 % more: "20 % less" this week. */
export const THIS_MONDAY = Date.UTC(2026, 10, 23, 5);
const YEAR_START = Date.UTC(2026, 0, 1, 5);
export const hourFactor = (t: number) => (t >= YEAR_START && t < THIS_MONDAY ? 1.25 : 1);

/** The main meter's 15-minute mean kW: 100 + day of month, 150 + day at 14:00-14:15, and 400 kW on Tue Nov 24 at 14:15. */
export const SPIKE = Date.UTC(2026, 10, 24, 19, 15);
export function quarterKw(t: number): number {
  if (t === SPIKE) return 400;
  // New York's offset by arithmetic (EDT until 2026-11-01 06:00 UTC): Intl per bucket is slow in tests
  const local = new Date(t + (t < Date.UTC(2026, 10, 1, 6) ? -4 : -5) * 3_600_000);
  const minute = local.getUTCHours() * 60 + local.getUTCMinutes();
  return 100 + local.getUTCDate() + (minute === 14 * 60 ? 50 : 0);
}

/*
 * New York's local midnights by the US rule written out (EDT from the second
 * Sunday of March to the first Sunday of November), an independent reference
 * for the page's Intl-based arithmetic, and fast.
 */
const DST: Record<string, [string, string]> = { 2025: ['2025-03-09', '2025-11-02'], 2026: ['2026-03-08', '2026-11-01'] };
export function nyMidnight(day: string): number {
  const [a, b] = DST[day.slice(0, 4)] ?? ['', ''];
  const [y, m, d] = day.split('-').map(Number);
  return Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1, day > a && day <= b ? 4 : 5);
}
/** The local day of a local midnight (what the page asks from). */
const nyDay = (t: number) => new Date(t - 4 * 3_600_000).toISOString().slice(0, 10);

const bucket = (start: number, value: number, peak?: number): HistoryBucket =>
  ({ start, n: 15, min: value, max: value, value, ...(peak !== undefined ? { peak } : {}), quality: 0 });

/** The buckets sbems would return for [from, to) at this resolution. */
export function buckets(slug: string, res: string, agg: string | null, from: number, to: number): HistoryBucket[] {
  const out: HistoryBucket[] = [];
  const daily = DAILY_KWH[slug];
  if (res === '1d') {
    for (let d = nyDay(from); nyMidnight(d) < to; d = addDays(d, 1)) {
      const t = nyMidnight(d);
      if (agg === 'counter' && daily !== undefined) out.push(bucket(t, daily));
      if (agg === 'rate' && slug === 'mtr-main.power') {
        const day = Number(d.slice(8));
        out.push(bucket(t, 120, d === '2026-11-24' ? 400 : 150 + day));
      }
    }
  } else if (res === '1h' && agg === 'counter' && daily !== undefined) {
    for (let t = from - (from % 3_600_000); t < to; t += 3_600_000) out.push(bucket(t, (daily / 24) * hourFactor(t)));
  } else if (res === '15m' && agg === 'rate' && slug === 'mtr-main.power') {
    for (let t = from - (from % 900_000); t < to; t += 900_000) {
      const kw = quarterKw(t);
      out.push(bucket(t, kw, kw));
    }
  }
  return out;
}

export function historyAnswer(c: Call, slug: string, dataFrom = -Infinity): History {
  const from = Math.max(dataFrom, Number(c.query.get('from')));
  const to = Number(c.query.get('to') ?? A_NOW);
  const res = (c.query.get('resolution') ?? 'raw') as History['res'];
  const agg = c.query.get('agg');
  const b = from < to ? buckets(slug, res, agg, from, to) : [];
  return { point: 1, res, kind: (agg ?? 'mean') as History['kind'], from, to, limit: 100000, count: b.length, truncated: false, next: null, buckets: b };
}

const page = <T,>(items: T[]) => ({ items, next_cursor: null });

/**
 * sbems for the Analytics page: the model and the rollups; history starts at
 * `dataFrom` (a local midnight), none before.
 */
export function analyticsServer(dataFrom = -Infinity) {
  return (c: Call): Response => {
    if (c.path === '/api/v1/auth/login') return json(200, tokens({ roles: ['viewer'] }));
    if (c.path === '/api/v1/buildings/hpo') return json(200, A_BUILDING);
    if (c.path === '/api/v1/equipment') return json(200, page(A_EQUIPMENT));
    if (c.path === '/api/v1/points') return json(200, page(A_POINTS));
    const m = /^\/api\/v1\/points\/([^/]+)\/history$/.exec(c.path);
    if (m) return json(200, historyAnswer(c, decodeURIComponent(m[1] as string), dataFrom));
    return apiError(404, 'not_found');
  };
}

/*
 * ---- the analytics engine ------------------------------------------------------
 *
 * Answers captured from a running sbems (building hpo, the simulated office
 * with two years of history; its meters are meter-main with the HVAC,
 * lighting and plug sub-meters), for the forecast, zone prediction, savings,
 * tariff, cost and model pages.  Only the first and the generated parts are
 * ours: the equipment and zone lists (shapes of GET /equipment, /zones) and
 * engineServer, which plays sbems.
 */

export const E_NOW = Date.UTC(2026, 10, 28, 1, 40); // Fri 2026-11-27 20:40 EST, after the forecast's issue

const emeter = (id: string, name: string, parent?: string): Equipment =>
  ({ id, building: 'hpo', name, type: 'meter', ...(parent ? { parent } : {}), tags: ['elec', 'meter', 'equip'] });

/** The sub-meters first, as the model may list them: the page must still put the main meter first. */
export const E_METERS: Equipment[] = [
  emeter('meter-hvac', 'HVAC meter', 'meter-main'),
  emeter('meter-main', 'Main meter'),
  emeter('meter-lighting', 'Lighting meter', 'meter-main'),
  emeter('meter-plugs', 'Plug loads meter', 'meter-main'),
];

export const E_ZONES: Zone[] = [
  { id: 'f1-north', building: 'hpo', name: 'Floor 1 north', floor: 1 },
  { id: 'f1-east', building: 'hpo', name: 'Floor 1 east', floor: 1 },
];

/** GET /api/v1/predictions/load?meter=meter-main&horizon_h=72, as a running sbems answered (issued Nov 27, 20:00 EST). */

export const FORECAST_REPORT: ForecastReport = {"chosen": "gbm", "level": 0.9, "train_start_utc": 1730163600, "train_end_utc": 1795827600, "backtest_start_utc": 1787965200, "backtest_origins": 168, "buckets": [[1, 6], [7, 24], [25, 48], [49, 72]], "clean": {"n": 18240, "missing": 0, "zeros": 0, "negative": 0, "flat": 0, "flat_runs": 0, "spikes": 11, "kept": 18229}, "sufficiency": {"days_needed": 90, "min_coverage": 0.9, "days_ok": 759, "days_total": 761, "ok": true}, "models": {"naive_day": [{"n": 1008, "rmse": 21.39279584429633, "cvrmse": 0.3404990161446736, "nmbe": 0.004744040926466857, "lo": -52.117708333147064, "hi": 50.64084027768694, "coverage": 0.9047619047619048}, {"n": 3012, "rmse": 21.617593404422248, "cvrmse": 0.34431797080021714, "nmbe": 0.002471391132623778, "lo": -52.41800000006333, "hi": 51.18462184598293, "coverage": 0.9027224435590969}, {"n": 3975, "rmse": 29.774320214501163, "cvrmse": 0.4721588914488944, "nmbe": 0.011845605533634033, "lo": -55.73072578604667, "hi": 57.43399999989197, "coverage": 0.9008805031446541}, {"n": 3931, "rmse": 29.69596304657405, "cvrmse": 0.46918212799659065, "nmbe": 0.019540878165609846, "lo": -56.45328186223182, "hi": 57.075999999884516, "coverage": 0.9012973798015772}, {"n": 11926, "rmse": 27.25540354446408, "cvrmse": 0.43230007756896677, "nmbe": 0.011436201541411803, "lo": -55.164997819984805, "hi": 56.24899999983609, "coverage": 0.9004695623008553}], "naive_week": [{"n": 1008, "rmse": 8.416714297425695, "cvrmse": 0.13396486173677707, "nmbe": 0.014971530733132796, "lo": -11.345972222195186, "hi": 13.491319444541453, "coverage": 0.8998015873015873}, {"n": 3012, "rmse": 8.628124481508882, "cvrmse": 0.13742595013731188, "nmbe": 0.013598827697857425, "lo": -11.992544156789242, "hi": 13.847561753025431, "coverage": 0.901062416998672}, {"n": 3975, "rmse": 8.486292112808096, "cvrmse": 0.13457497090205514, "nmbe": 0.013617125082859496, "lo": -11.654000000329688, "hi": 13.61749559733759, "coverage": 0.9008805031446541}, {"n": 3931, "rmse": 8.466371222756713, "cvrmse": 0.13376464876630303, "nmbe": 0.014478900678109894, "lo": -11.757999999914318, "hi": 13.615099211380441, "coverage": 0.9012973798015772}, {"n": 11926, "rmse": 8.509964025492366, "cvrmse": 0.13497720194558224, "nmbe": 0.014011762091769615, "lo": -11.757999999914318, "hi": 13.616999999852851, "coverage": 0.9004695623008553}], "towt": [{"n": 1008, "rmse": 5.509554925734585, "cvrmse": 0.08769298063057233, "nmbe": -0.06930408382222933, "lo": -10.164565318356757, "hi": 1.1733704712409083, "coverage": 0.8978174603174603}, {"n": 3012, "rmse": 5.5502654084256875, "cvrmse": 0.08840281557154424, "nmbe": -0.06858047553868622, "lo": -10.334300543294347, "hi": 1.2816933566208375, "coverage": 0.901062416998672}, {"n": 3975, "rmse": 5.579153550214711, "cvrmse": 0.08847379004843135, "nmbe": -0.06912406883095765, "lo": -10.377117865335126, "hi": 1.1725482665802858, "coverage": 0.9013836477987421}, {"n": 3931, "rmse": 5.588877553999363, "cvrmse": 0.08830161391921311, "nmbe": -0.06931265743225797, "lo": -10.334716301616776, "hi": 1.1531682999153503, "coverage": 0.9015517679979649}, {"n": 11926, "rmse": 5.569229809649578, "cvrmse": 0.08833398759931126, "nmbe": -0.06906492038908812, "lo": -10.321281807333222, "hi": 1.1649224400871967, "coverage": 0.9008049639443233}], "gbm": [{"n": 1008, "rmse": 2.9650974607103384, "cvrmse": 0.04719405427384189, "nmbe": -0.005528229124174338, "lo": -5.296554899113147, "hi": 4.423356007872565, "coverage": 0.9037698412698413}, {"n": 3012, "rmse": 3.0271150026569877, "cvrmse": 0.04821489957714394, "nmbe": -0.00466531351563468, "lo": -5.133194351029361, "hi": 4.570834981517869, "coverage": 0.897742363877822}, {"n": 3975, "rmse": 3.0193740393403683, "cvrmse": 0.047881002454933916, "nmbe": -0.005114164852701634, "lo": -5.223413483812128, "hi": 4.486339835033002, "coverage": 0.9008805031446541}, {"n": 3931, "rmse": 3.019827112912237, "cvrmse": 0.04771183573995666, "nmbe": -0.004938210774965194, "lo": -5.163698689400708, "hi": 4.619580335688243, "coverage": 0.9007886034088018}, {"n": 11926, "rmse": 3.0169336591690454, "cvrmse": 0.04785181964932267, "nmbe": -0.0049779301578895254, "lo": -5.174499286200912, "hi": 4.530393233091566, "coverage": 0.9000503102465202}]}, "fit_ms": {"towt": 7.369066998362541, "gbm": 2189.381919004023}, "message": "chose gbm by backtest CV(RMSE) over 1-72 h: naive_day 43.2 % naive_week 13.5 % towt 8.8 % gbm 4.8 %"};

const LOAD_POINTS: [string, number, number, number][] = [
  ["2026-11-28T01:00:00.000Z", 56.61029211506388, 51.31373721595073, 61.03364812293644],
  ["2026-11-28T02:00:00.000Z", 60.50726180657861, 55.210706907465465, 64.93061781445118],
  ["2026-11-28T03:00:00.000Z", 59.87956651716532, 54.583011618052176, 64.30292252503789],
  ["2026-11-28T04:00:00.000Z", 60.88539665898857, 55.58884175987542, 65.30875266686114],
  ["2026-11-28T05:00:00.000Z", 64.3106798114081, 59.014124912294946, 68.73403581928066],
  ["2026-11-28T06:00:00.000Z", 67.48181523847528, 62.18526033936213, 71.90517124634785],
  ["2026-11-28T07:00:00.000Z", 66.51526178666248, 61.38206743563312, 71.08609676818034],
  ["2026-11-28T08:00:00.000Z", 66.58711067713219, 61.45391632610283, 71.15794565865005],
  ["2026-11-28T09:00:00.000Z", 66.636244264173, 61.50304991314364, 71.20707924569086],
  ["2026-11-28T10:00:00.000Z", 65.38557326362422, 60.252378912594864, 69.95640824514209],
  ["2026-11-28T11:00:00.000Z", 63.92927923788818, 58.79608488685882, 68.50011421940604],
  ["2026-11-28T12:00:00.000Z", 63.734710672671085, 58.601516321641725, 68.30554565418896],
  ["2026-11-28T13:00:00.000Z", 61.76842988649108, 56.63523553546172, 66.33926486800894],
  ["2026-11-28T14:00:00.000Z", 59.3519444781887, 54.21875012715934, 63.92277945970657],
  ["2026-11-28T15:00:00.000Z", 55.30964410148537, 50.17644975045601, 59.88047908300324],
  ["2026-11-28T16:00:00.000Z", 53.451714013917176, 48.318519662887816, 58.022548995435045],
  ["2026-11-28T17:00:00.000Z", 51.6842066930689, 46.55101234203954, 56.25504167458677],
  ["2026-11-28T18:00:00.000Z", 50.293830331620725, 45.160635980591366, 54.864665313138595],
  ["2026-11-28T19:00:00.000Z", 48.96054517698714, 43.82735082595778, 53.53138015850501],
  ["2026-11-28T20:00:00.000Z", 45.446297187380225, 40.313102836350865, 50.017132168898094],
  ["2026-11-28T21:00:00.000Z", 45.09839931190145, 39.96520496087209, 49.66923429341932],
  ["2026-11-28T22:00:00.000Z", 45.97795480708737, 40.84476045605801, 50.54878978860524],
  ["2026-11-28T23:00:00.000Z", 48.870311164001585, 43.737116812972225, 53.441146145519454],
  ["2026-11-29T00:00:00.000Z", 50.55499812550587, 45.42180377447651, 55.12583310702374],
  ["2026-11-29T01:00:00.000Z", 57.116923123469434, 51.8935096396573, 61.603262958502434],
  ["2026-11-29T02:00:00.000Z", 59.483673305472166, 54.260259821660036, 63.970013140505166],
  ["2026-11-29T03:00:00.000Z", 59.84581657812524, 54.62240309431311, 64.33215641315824],
  ["2026-11-29T04:00:00.000Z", 61.00431226066492, 55.78089877685279, 65.49065209569793],
  ["2026-11-29T05:00:00.000Z", 64.29048706417281, 59.06707358036068, 68.77682689920582],
  ["2026-11-29T06:00:00.000Z", 66.80185438536125, 61.57844090154912, 71.28819422039426],
  ["2026-11-29T07:00:00.000Z", 66.29413661543688, 61.07072313162475, 70.78047645046989],
  ["2026-11-29T08:00:00.000Z", 65.29403780718735, 60.07062432337522, 69.78037764222036],
  ["2026-11-29T09:00:00.000Z", 65.6429440837406, 60.41953059992847, 70.12928391877361],
  ["2026-11-29T10:00:00.000Z", 64.68104306397736, 59.457629580165225, 69.16738289901036],
  ["2026-11-29T11:00:00.000Z", 64.81616364570938, 59.59275016189725, 69.30250348074239],
  ["2026-11-29T12:00:00.000Z", 63.74126945769494, 58.51785597388281, 68.22760929272795],
  ["2026-11-29T13:00:00.000Z", 62.02129375435379, 56.79788027054166, 66.5076335893868],
  ["2026-11-29T14:00:00.000Z", 59.811347488919694, 54.58793400510756, 64.2976873239527],
  ["2026-11-29T15:00:00.000Z", 56.83700893089042, 51.61359544707829, 61.32334876592342],
  ["2026-11-29T16:00:00.000Z", 52.968947058067194, 47.74553357425506, 57.455286893100194],
  ["2026-11-29T17:00:00.000Z", 51.4806283866341, 46.25721490282197, 55.9669682216671],
  ["2026-11-29T18:00:00.000Z", 49.79235941060671, 44.56894592679458, 54.27869924563971],
  ["2026-11-29T19:00:00.000Z", 48.41312484808693, 43.1897113642748, 52.89946468311993],
  ["2026-11-29T20:00:00.000Z", 44.566315513850505, 39.342902030038374, 49.052655348883505],
  ["2026-11-29T21:00:00.000Z", 43.638688744000476, 38.415275260188345, 48.125028579033476],
  ["2026-11-29T22:00:00.000Z", 46.476007318626685, 41.252593834814554, 50.962347153659685],
  ["2026-11-29T23:00:00.000Z", 48.90810229925279, 43.68468881544066, 53.39444213428579],
  ["2026-11-30T00:00:00.000Z", 52.09147454426617, 46.86806106045404, 56.57781437929917],
  ["2026-11-30T01:00:00.000Z", 57.48848576462324, 52.32478707522253, 62.10806610031148],
  ["2026-11-30T02:00:00.000Z", 59.26913959578039, 54.10544090637968, 63.88871993146863],
  ["2026-11-30T03:00:00.000Z", 60.118850119867325, 54.955151430466614, 64.73843045555557],
  ["2026-11-30T04:00:00.000Z", 61.638774414332005, 56.475075724931294, 66.25835475002025],
  ["2026-11-30T05:00:00.000Z", 65.14699820351696, 59.98329951411625, 69.7665785392052],
  ["2026-11-30T06:00:00.000Z", 67.06132807475801, 61.8976293853573, 71.68090841044625],
  ["2026-11-30T07:00:00.000Z", 66.29109381974726, 61.12739513034655, 70.9106741554355],
  ["2026-11-30T08:00:00.000Z", 67.66866305597337, 62.50496436657266, 72.28824339166161],
  ["2026-11-30T09:00:00.000Z", 66.40735926018357, 61.24366057078286, 71.02693959587181],
  ["2026-11-30T10:00:00.000Z", 66.21010168911047, 61.04640299970976, 70.82968202479871],
  ["2026-11-30T11:00:00.000Z", 63.774103202879346, 58.610404513478635, 68.39368353856759],
  ["2026-11-30T12:00:00.000Z", 118.79491646980492, 113.63121778040421, 123.41449680549316],
  ["2026-11-30T13:00:00.000Z", 118.16686479206358, 113.00316610266287, 122.78644512775182],
  ["2026-11-30T14:00:00.000Z", 112.47196193827831, 107.30826324887761, 117.09154227396655],
  ["2026-11-30T15:00:00.000Z", 110.05507968559647, 104.89138099619576, 114.67466002128471],
  ["2026-11-30T16:00:00.000Z", 107.333008330849, 102.1693096414483, 111.95258866653724],
  ["2026-11-30T17:00:00.000Z", 106.10677132222914, 100.94307263282843, 110.72635165791738],
  ["2026-11-30T18:00:00.000Z", 103.44201718947811, 98.2783185000774, 108.06159752516635],
  ["2026-11-30T19:00:00.000Z", 102.05362350865782, 96.88992481925712, 106.67320384434606],
  ["2026-11-30T20:00:00.000Z", 98.5885457753304, 93.4248470859297, 103.20812611101864],
  ["2026-11-30T21:00:00.000Z", 98.16608479363401, 93.00238610423331, 102.78566512932225],
  ["2026-11-30T22:00:00.000Z", 99.5205041356437, 94.356805446243, 104.14008447133195],
  ["2026-11-30T23:00:00.000Z", 102.34904950896762, 97.18535081956692, 106.96862984465587],
  ["2026-12-01T00:00:00.000Z", 51.39666510776802, 46.23296641836731, 56.01624544345626],
];

export const LOAD_FORECAST: LoadForecast = { ...{"meter": "meter-main", "building": "hpo", "unit": "kWh", "issued": "2026-11-28T01:00:00.000Z", "model": "gbm", "level": 0.9, "temperature_source": "persistence", "trained": "2026-11-28T01:33:49.319Z", "report": FORECAST_REPORT}, points: LOAD_POINTS.map(([t, kwh, lo, hi]) => ({ t, kwh, lo, hi })) };

const TEMP_POINTS: [string, number, number, number, number][] = [
  ["2026-11-28T01:45:00.000Z", 18.777837976084616, 15.5, 29.5, 0.0],
  ["2026-11-28T02:00:00.000Z", 18.57342122070504, 15.5, 29.5, 0.0],
  ["2026-11-28T02:15:00.000Z", 18.38207659425884, 15.5, 29.5, 0.0],
  ["2026-11-28T02:30:00.000Z", 18.202432402246668, 15.5, 29.5, 0.0],
  ["2026-11-28T02:45:00.000Z", 18.03325573816107, 15.5, 29.5, 0.0],
  ["2026-11-28T03:00:00.000Z", 17.87711862374572, 15.5, 29.5, 0.0],
  ["2026-11-28T03:15:00.000Z", 17.732687905633536, 15.5, 29.5, 0.0],
  ["2026-11-28T03:30:00.000Z", 17.59876525242395, 15.5, 29.5, 0.0],
  ["2026-11-28T03:45:00.000Z", 17.474273522991083, 15.5, 29.5, 0.0],
  ["2026-11-28T04:00:00.000Z", 17.35700191345251, 15.5, 29.5, 0.0],
  ["2026-11-28T04:15:00.000Z", 17.246193977326545, 15.5, 29.5, 0.0],
  ["2026-11-28T04:30:00.000Z", 17.141169803121667, 15.5, 29.5, 0.0],
  ["2026-11-28T04:45:00.000Z", 17.041318275903297, 15.5, 29.5, 0.0],
  ["2026-11-28T05:00:00.000Z", 16.942548495888694, 15.5, 29.5, 0.0],
  ["2026-11-28T05:15:00.000Z", 16.844691227283825, 15.5, 29.5, 0.0],
  ["2026-11-28T05:30:00.000Z", 16.747594462970795, 15.5, 29.5, 0.0],
  ["2026-11-28T05:45:00.000Z", 16.651121682313068, 15.5, 29.5, 0.0],
  ["2026-11-28T06:00:00.000Z", 16.55470866434144, 15.5, 29.5, 0.0],
  ["2026-11-28T06:15:00.000Z", 16.458285778775647, 15.5, 29.5, 0.0],
  ["2026-11-28T06:30:00.000Z", 16.36179056037004, 15.5, 29.5, 0.0],
  ["2026-11-28T06:45:00.000Z", 16.265166984223296, 15.5, 29.5, 0.0],
  ["2026-11-28T07:00:00.000Z", 16.177032704380856, 15.5, 29.5, 0.0],
  ["2026-11-28T07:15:00.000Z", 16.09654861684114, 15.5, 29.5, 0.0],
  ["2026-11-28T07:30:00.000Z", 16.02296042031584, 15.5, 29.5, 0.0],
  ["2026-11-28T07:45:00.000Z", 15.955590042036327, 15.5, 29.5, 0.0],
  ["2026-11-28T08:00:00.000Z", 15.89130376470796, 15.5, 29.5, 0.0],
  ["2026-11-28T08:15:00.000Z", 15.829784870631995, 15.5, 29.5, 0.0],
  ["2026-11-28T08:30:00.000Z", 15.770748674531186, 15.5, 29.5, 0.0],
  ["2026-11-28T08:45:00.000Z", 15.71393928478366, 15.5, 29.5, 0.0],
  ["2026-11-28T09:00:00.000Z", 15.662183400591921, 15.5, 29.5, 0.0],
  ["2026-11-28T09:15:00.000Z", 15.614994250925797, 15.5, 29.5, 0.0],
  ["2026-11-28T09:30:00.000Z", 15.571934233932334, 15.5, 29.5, 0.0],
  ["2026-11-28T09:45:00.000Z", 15.532609945611547, 15.5, 29.5, 0.0],
  ["2026-11-28T10:00:00.000Z", 15.495741173440205, 15.5, 29.5, 0.0],
  ["2026-11-28T10:15:00.000Z", 15.46109483565922, 15.5, 29.5, 0.0],
  ["2026-11-28T10:30:00.000Z", 15.428461387213945, 15.5, 29.5, 0.0],
  ["2026-11-28T10:45:00.000Z", 15.397652440053903, 15.5, 29.5, 0.0],
  ["2026-11-28T11:00:00.000Z", 15.371343181354371, 15.5, 29.5, 0.0],
  ["2026-11-28T11:15:00.000Z", 15.34912074421213, 15.5, 29.5, 0.0],
  ["2026-11-28T11:30:00.000Z", 15.330613923416395, 15.5, 29.5, 0.0],
  ["2026-11-28T11:45:00.000Z", 15.315488963263435, 15.5, 29.5, 0.0],
  ["2026-11-28T12:00:00.000Z", 15.299484173172162, 15.5, 29.5, 0.0],
  ["2026-11-28T12:15:00.000Z", 15.286360575851349, 15.5, 29.5, 0.0],
  ["2026-11-28T12:30:00.000Z", 15.290233970940212, 15.5, 29.5, 0.0],
  ["2026-11-28T12:45:00.000Z", 15.313697906787457, 15.5, 29.5, 0.0],
  ["2026-11-28T13:00:00.000Z", 15.359161892552645, 15.5, 29.5, 0.0],
  ["2026-11-28T13:15:00.000Z", 15.83774697535754, 21.0, 24.0, 0.0],
  ["2026-11-28T13:30:00.000Z", 16.295168747893676, 21.0, 24.0, 0.0],
  ["2026-11-28T13:45:00.000Z", 16.732700022564053, 21.0, 24.0, 0.0],
  ["2026-11-28T14:00:00.000Z", 17.156725508875876, 21.0, 24.0, 0.0],
  ["2026-11-28T14:15:00.000Z", 17.567474092537683, 21.0, 24.0, 0.0],
  ["2026-11-28T14:30:00.000Z", 17.96503336069029, 21.0, 24.0, 0.0],
  ["2026-11-28T14:45:00.000Z", 18.349379613570832, 21.0, 24.0, 0.0],
  ["2026-11-28T15:00:00.000Z", 18.71718869826712, 21.0, 24.0, 0.0],
  ["2026-11-28T15:15:00.000Z", 19.068574691307735, 21.0, 24.0, 0.0],
  ["2026-11-28T15:30:00.000Z", 19.403569671269576, 21.0, 24.0, 0.0],
  ["2026-11-28T15:45:00.000Z", 19.72214095054418, 21.0, 24.0, 0.0],
  ["2026-11-28T16:00:00.000Z", 20.024539730277986, 21.0, 24.0, 0.0],
  ["2026-11-28T16:15:00.000Z", 20.310617453067056, 21.0, 24.0, 0.0],
  ["2026-11-28T16:30:00.000Z", 20.58020508128866, 21.0, 24.0, 0.0],
  ["2026-11-28T16:45:00.000Z", 20.83312386114943, 21.0, 24.0, 0.0],
  ["2026-11-28T17:00:00.000Z", 21.067584444587624, 21.0, 24.0, 0.0],
  ["2026-11-28T17:15:00.000Z", 20.870061437250076, 15.5, 29.5, 0.0],
  ["2026-11-28T17:30:00.000Z", 20.692233302327573, 15.5, 29.5, 0.0],
  ["2026-11-28T17:45:00.000Z", 20.530235690750292, 15.5, 29.5, 0.0],
  ["2026-11-28T18:00:00.000Z", 20.379712316262154, 15.5, 29.5, 0.0],
  ["2026-11-28T18:15:00.000Z", 20.23766663268907, 15.5, 29.5, 0.0],
  ["2026-11-28T18:30:00.000Z", 20.101442063534396, 15.5, 29.5, 0.0],
  ["2026-11-28T18:45:00.000Z", 19.96869787982725, 15.5, 29.5, 0.0],
  ["2026-11-28T19:00:00.000Z", 19.837830094448005, 15.5, 29.5, 0.0],
  ["2026-11-28T19:15:00.000Z", 19.70703085075033, 15.5, 29.5, 0.0],
  ["2026-11-28T19:30:00.000Z", 19.57476259038981, 15.5, 29.5, 0.0],
  ["2026-11-28T19:45:00.000Z", 19.439753177050658, 15.5, 29.5, 0.0],
  ["2026-11-28T20:00:00.000Z", 19.306135444871185, 15.5, 29.5, 0.0],
  ["2026-11-28T20:15:00.000Z", 19.172755084890348, 15.5, 29.5, 0.0],
  ["2026-11-28T20:30:00.000Z", 19.038936718036567, 15.5, 29.5, 0.0],
  ["2026-11-28T20:45:00.000Z", 18.904856054013813, 15.5, 29.5, 0.0],
  ["2026-11-28T21:00:00.000Z", 18.764813404487832, 15.5, 29.5, 0.0],
  ["2026-11-28T21:15:00.000Z", 18.631514472969794, 15.5, 29.5, 0.0],
  ["2026-11-28T21:30:00.000Z", 18.511830197237924, 15.5, 29.5, 0.0],
  ["2026-11-28T21:45:00.000Z", 18.40439347777742, 15.5, 29.5, 0.0],
  ["2026-11-28T22:00:00.000Z", 18.30234259214193, 15.5, 29.5, 0.0],
  ["2026-11-28T22:15:00.000Z", 18.205088907806278, 15.5, 29.5, 0.0],
  ["2026-11-28T22:30:00.000Z", 18.11210339447665, 15.5, 29.5, 0.0],
  ["2026-11-28T22:45:00.000Z", 18.022910597633725, 15.5, 29.5, 0.0],
  ["2026-11-28T23:00:00.000Z", 17.935355704859177, 15.5, 29.5, 0.0],
  ["2026-11-28T23:15:00.000Z", 17.84921296849281, 15.5, 29.5, 0.0],
  ["2026-11-28T23:30:00.000Z", 17.764279583924775, 15.5, 29.5, 0.0],
  ["2026-11-28T23:45:00.000Z", 17.6803733696284, 15.5, 29.5, 0.0],
  ["2026-11-29T00:00:00.000Z", 17.596564339836835, 15.5, 29.5, 0.0],
  ["2026-11-29T00:15:00.000Z", 17.512775718959848, 15.5, 29.5, 0.0],
  ["2026-11-29T00:30:00.000Z", 17.428938625491952, 15.5, 29.5, 0.0],
  ["2026-11-29T00:45:00.000Z", 17.34499127359603, 15.5, 29.5, 0.0],
  ["2026-11-29T01:00:00.000Z", 17.268156338892414, 15.5, 29.5, 0.0],
  ["2026-11-29T01:15:00.000Z", 17.197717396116037, 15.5, 29.5, 0.0],
  ["2026-11-29T01:30:00.000Z", 17.13303045132287, 15.5, 29.5, 0.0],
];

/** GET /api/v1/predictions/temperature?zone=f1-north&hours=24 (the comfort band by schedule). */

export const TEMP_PREDICTION: TempPrediction = { ...{"zone": "f1-north", "building": "hpo", "issued": "2026-11-28T01:30:00.000Z", "temperature_source": "persistence", "scores": {"rmse_fit": 0.4521821341894266, "rmse_1step": 0.10842298157356896, "rmse_24h": 0.5775533386051014, "max_24h": 2.8681205198122512, "bias_24h": -0.09771634117988724, "trajectories": 144}},
  points: TEMP_POINTS.map(([t, temperature, heating_sp, cooling_sp, hvac_kw]) => ({ t, temperature, heating_sp, cooling_sp, hvac_kw })) };

/** GET /api/v1/analytics/models?building=hpo. */

const EMPTY_REPORT: ForecastReport = {"chosen": "naive_day", "level": 0.0, "train_start_utc": 0, "train_end_utc": 0, "backtest_start_utc": 0, "backtest_origins": 0, "buckets": [[1, 6], [7, 24], [25, 48], [49, 72]], "clean": {"n": 0, "missing": 0, "zeros": 0, "negative": 0, "flat": 0, "flat_runs": 0, "spikes": 0, "kept": 0}, "sufficiency": {"days_needed": 0, "min_coverage": 0.0, "days_ok": 0, "days_total": 0, "ok": false}, "models": {"naive_day": [{"n": 0, "rmse": 0.0, "cvrmse": 0.0, "nmbe": 0.0, "lo": 0.0, "hi": 0.0, "coverage": 0.0}, {"n": 0, "rmse": 0.0, "cvrmse": 0.0, "nmbe": 0.0, "lo": 0.0, "hi": 0.0, "coverage": 0.0}, {"n": 0, "rmse": 0.0, "cvrmse": 0.0, "nmbe": 0.0, "lo": 0.0, "hi": 0.0, "coverage": 0.0}, {"n": 0, "rmse": 0.0, "cvrmse": 0.0, "nmbe": 0.0, "lo": 0.0, "hi": 0.0, "coverage": 0.0}, {"n": 0, "rmse": 0.0, "cvrmse": 0.0, "nmbe": 0.0, "lo": 0.0, "hi": 0.0, "coverage": 0.0}], "naive_week": [{"n": 0, "rmse": 0.0, "cvrmse": 0.0, "nmbe": 0.0, "lo": 0.0, "hi": 0.0, "coverage": 0.0}, {"n": 0, "rmse": 0.0, "cvrmse": 0.0, "nmbe": 0.0, "lo": 0.0, "hi": 0.0, "coverage": 0.0}, {"n": 0, "rmse": 0.0, "cvrmse": 0.0, "nmbe": 0.0, "lo": 0.0, "hi": 0.0, "coverage": 0.0}, {"n": 0, "rmse": 0.0, "cvrmse": 0.0, "nmbe": 0.0, "lo": 0.0, "hi": 0.0, "coverage": 0.0}, {"n": 0, "rmse": 0.0, "cvrmse": 0.0, "nmbe": 0.0, "lo": 0.0, "hi": 0.0, "coverage": 0.0}], "towt": [{"n": 0, "rmse": 0.0, "cvrmse": 0.0, "nmbe": 0.0, "lo": 0.0, "hi": 0.0, "coverage": 0.0}, {"n": 0, "rmse": 0.0, "cvrmse": 0.0, "nmbe": 0.0, "lo": 0.0, "hi": 0.0, "coverage": 0.0}, {"n": 0, "rmse": 0.0, "cvrmse": 0.0, "nmbe": 0.0, "lo": 0.0, "hi": 0.0, "coverage": 0.0}, {"n": 0, "rmse": 0.0, "cvrmse": 0.0, "nmbe": 0.0, "lo": 0.0, "hi": 0.0, "coverage": 0.0}, {"n": 0, "rmse": 0.0, "cvrmse": 0.0, "nmbe": 0.0, "lo": 0.0, "hi": 0.0, "coverage": 0.0}], "gbm": [{"n": 0, "rmse": 0.0, "cvrmse": 0.0, "nmbe": 0.0, "lo": 0.0, "hi": 0.0, "coverage": 0.0}, {"n": 0, "rmse": 0.0, "cvrmse": 0.0, "nmbe": 0.0, "lo": 0.0, "hi": 0.0, "coverage": 0.0}, {"n": 0, "rmse": 0.0, "cvrmse": 0.0, "nmbe": 0.0, "lo": 0.0, "hi": 0.0, "coverage": 0.0}, {"n": 0, "rmse": 0.0, "cvrmse": 0.0, "nmbe": 0.0, "lo": 0.0, "hi": 0.0, "coverage": 0.0}, {"n": 0, "rmse": 0.0, "cvrmse": 0.0, "nmbe": 0.0, "lo": 0.0, "hi": 0.0, "coverage": 0.0}]}, "fit_ms": {"towt": 0.0, "gbm": 0.0}, "message": "needs 90 days with >= 90 % coverage, has 0 (no readings yet)"};

export const MODELS: Models = {
  meters: [
    {"status": "ok", "message": "chose gbm by backtest CV(RMSE) over 1-72 h: naive_day 43.2 % naive_week 13.5 % towt 8.8 % gbm 4.8 %", "trained": "2026-11-28T01:33:49.319Z", "report": FORECAST_REPORT, "meter": "meter-main", "building": "hpo"},
    {"status": "insufficient", "message": "needs 90 days with >= 90 % coverage, has 0 (no readings yet)", "trained": "2026-11-28T01:33:49.478Z", "report": { ...EMPTY_REPORT, message: "needs 90 days with >= 90 % coverage, has 0 (no readings yet)" }, "meter": "meter-hvac", "building": "hpo"},
    {"status": "insufficient", "message": "needs 90 days with >= 90 % coverage, has 0 (no readings yet)", "trained": "2026-11-28T01:33:49.502Z", "report": { ...EMPTY_REPORT, message: "needs 90 days with >= 90 % coverage, has 0 (no readings yet)" }, "meter": "meter-lighting", "building": "hpo"},
    {"status": "insufficient", "message": "needs 90 days with >= 90 % coverage, has 0 (no readings yet)", "trained": "2026-11-28T01:33:49.528Z", "report": { ...EMPTY_REPORT, message: "needs 90 days with >= 90 % coverage, has 0 (no readings yet)" }, "meter": "meter-plugs", "building": "hpo"},
  ],
  zones: [
    {"zone": "f1-north", "building": "hpo", "status": "ok", "message": "", "trained": "2026-11-28T01:33:51.068Z", "scores": {"rmse_fit": 0.4521821341894266, "rmse_1step": 0.10842298157356896, "rmse_24h": 0.5775533386051014, "max_24h": 2.8681205198122512, "bias_24h": -0.09771634117988724, "trajectories": 144}, "structure": "3R2C"},
    {"zone": "f1-east", "building": "hpo", "status": "insufficient", "message": "HVAC heat input missing for 672.0 h (gaps longer than 2 h)", "trained": "2026-11-28T01:33:51.072Z"},
    {"zone": "f1-south", "building": "hpo", "status": "insufficient", "message": "HVAC heat input missing for 672.0 h (gaps longer than 2 h)", "trained": "2026-11-28T01:33:51.077Z"},
    {"zone": "f1-west", "building": "hpo", "status": "insufficient", "message": "HVAC heat input missing for 672.0 h (gaps longer than 2 h)", "trained": "2026-11-28T01:33:51.081Z"},
    {"zone": "f1-core", "building": "hpo", "status": "insufficient", "message": "HVAC heat input missing for 672.0 h (gaps longer than 2 h)", "trained": "2026-11-28T01:33:51.085Z"},
    {"zone": "f2-north", "building": "hpo", "status": "insufficient", "message": "HVAC heat input missing for 672.0 h (gaps longer than 2 h)", "trained": "2026-11-28T01:33:51.087Z"},
    {"zone": "f2-east", "building": "hpo", "status": "insufficient", "message": "HVAC heat input missing for 672.0 h (gaps longer than 2 h)", "trained": "2026-11-28T01:33:51.108Z"},
    {"zone": "f2-south", "building": "hpo", "status": "insufficient", "message": "HVAC heat input missing for 672.0 h (gaps longer than 2 h)", "trained": "2026-11-28T01:33:51.109Z"},
    {"zone": "f2-west", "building": "hpo", "status": "insufficient", "message": "HVAC heat input missing for 672.0 h (gaps longer than 2 h)", "trained": "2026-11-28T01:33:51.111Z"},
    {"zone": "f2-core", "building": "hpo", "status": "insufficient", "message": "HVAC heat input missing for 672.0 h (gaps longer than 2 h)", "trained": "2026-11-28T01:33:51.113Z"},
    {"zone": "f3-north", "building": "hpo", "status": "insufficient", "message": "HVAC heat input missing for 672.0 h (gaps longer than 2 h)", "trained": "2026-11-28T01:33:51.114Z"},
    {"zone": "f3-east", "building": "hpo", "status": "insufficient", "message": "HVAC heat input missing for 672.0 h (gaps longer than 2 h)", "trained": "2026-11-28T01:33:51.116Z"},
    {"zone": "f3-south", "building": "hpo", "status": "insufficient", "message": "HVAC heat input missing for 672.0 h (gaps longer than 2 h)", "trained": "2026-11-28T01:33:51.118Z"},
    {"zone": "f3-west", "building": "hpo", "status": "insufficient", "message": "HVAC heat input missing for 672.0 h (gaps longer than 2 h)", "trained": "2026-11-28T01:33:51.119Z"},
    {"zone": "f3-core", "building": "hpo", "status": "insufficient", "message": "HVAC heat input missing for 672.0 h (gaps longer than 2 h)", "trained": "2026-11-28T01:33:51.121Z"},
  ],
};

/** /api/v1/predictions/load/accuracy?meter=meter-main&from=1795654800000&to=1795834800000&horizon_h=1 200 */

export const ACCURACY: Accuracy = {
  "meter": "meter-main",
  "unit": "kWh",
  "horizon_h": 1,
  "summary": {
    "pairs": 0,
    "cvrmse": null,
    "nmbe": null,
    "coverage": null
  },
  "rows": [
    {
      "t": "2026-11-28T01:00:00.000Z",
      "issued": "2026-11-28T01:00:00.000Z",
      "horizon_h": 1,
      "actual": null,
      "forecast": 56.61029211506388,
      "lo": 51.31373721595073,
      "hi": 61.03364812293644,
      "model": "gbm"
    }
  ]
};

/** /api/v1/tariffs 200 */

export const TARIFFS: { items: Tariff[] } = {
  "items": [
    {
      "id": "b19",
      "name": "B-19 style (illustrative)",
      "currency": "USD",
      "billing_cycle_day": 1,
      "demand_interval_min": 15,
      "demand_method": "block",
      "seasons": [
        {
          "name": "summer",
          "from": "06-01",
          "to": "09-30"
        },
        {
          "name": "winter",
          "from": "10-01",
          "to": "05-31"
        }
      ],
      "energy": [
        {
          "period": "peak",
          "price_per_kwh": 0.35,
          "days": [
            "weekday"
          ],
          "hours": [
            16,
            21
          ]
        },
        {
          "period": "off_peak",
          "price_per_kwh": 0.15,
          "days": [
            "weekday"
          ],
          "hours": [
            21,
            16
          ]
        },
        {
          "period": "off_peak",
          "price_per_kwh": 0.15,
          "days": [
            "weekend",
            "holiday"
          ]
        }
      ],
      "demand": [
        {
          "name": "max_demand",
          "price_per_kw": 20.0
        }
      ],
      "fixed": [
        {
          "name": "customer",
          "per_day": 3.0
        }
      ],
      "export": {
        "mode": "none"
      },
      "tax_pct": 0.0
    }
  ]
};

/** /api/v1/buildings/hpo/tariff 200 */

export const BUILDING_TARIFF: { tariff: string | null } = {
  "tariff": "b19"
};

/** /api/v1/buildings/hpo/holidays 200 */

export const HOLIDAYS: { days: Holiday[] } = {
  "days": [
    {
      "date": "2026-12-25",
      "name": "Christmas Day"
    },
    {
      "date": "2027-01-01",
      "name": "New Year"
    }
  ]
};

/** /api/v1/buildings/hpo/measures 200 */

export const MEASURES: { measures: Measure[] } = {
  "measures": [
    {
      "id": "vfd",
      "name": "Fan VFDs",
      "start": "2025-11-13"
    },
    {
      "id": "led",
      "name": "LED retrofit",
      "start": "2026-05-12",
      "description": "all floors"
    }
  ]
};

/** /api/v1/analytics/cost?building=hpo&period=2026-10-27/2026-11-25 200 */

export const COST: Cost = {
  "building": "hpo",
  "meter": "meter-main",
  "tariff": "b19",
  "currency": "USD",
  "from": "2026-10-27T04:00:00.000Z",
  "to": "2026-11-26T05:00:00.000Z",
  "total": 13709.50715000751,
  "bills": [
    {
      "tariff": "b19",
      "currency": "USD",
      "start": "2026-10-01T04:00:00Z",
      "end": "2026-11-01T04:00:00Z",
      "from": "2026-10-27T04:00:00Z",
      "to": "2026-11-01T04:00:00Z",
      "coverage": 0.161290322580645,
      "estimate": false,
      "allocated": false,
      "import_kwh": 7612.77099999995,
      "export_kwh": 0.0,
      "forecast_kwh": 0.0,
      "peak_kw": 106.484000000171,
      "peak_at": "2026-10-27T11:00:00Z",
      "intervals": 480,
      "missing": 0,
      "first_missing": null,
      "lines": [
        {
          "kind": "energy",
          "label": "winter peak energy",
          "qty": 1416.87600000016,
          "unit": "kWh",
          "price": 0.35,
          "cost": 495.906600000057
        },
        {
          "kind": "energy",
          "label": "winter off_peak energy",
          "qty": 6195.89499999979,
          "unit": "kWh",
          "price": 0.15,
          "cost": 929.384249999967
        },
        {
          "kind": "demand",
          "label": "max_demand demand",
          "qty": 106.484000000171,
          "unit": "kW",
          "price": 20.0,
          "cost": 2129.68000000343,
          "peak_at": "2026-10-27T11:00:00Z",
          "peak_s": 900,
          "no_data": false,
          "from_forecast": false
        },
        {
          "kind": "fixed",
          "label": "customer (per day)",
          "qty": 5.0,
          "unit": "day",
          "price": 3.0,
          "cost": 15.0
        }
      ],
      "subtotal": 3569.97085000345,
      "tax": 0.0,
      "total": 3569.97085000345,
      "notes": [
        "partial"
      ],
      "note": "the data covers part of the period; fixed charges pro-rated"
    },
    {
      "tariff": "b19",
      "currency": "USD",
      "start": "2026-11-01T04:00:00Z",
      "end": "2026-12-01T05:00:00Z",
      "from": "2026-11-01T04:00:00Z",
      "to": "2026-11-26T05:00:00Z",
      "coverage": 0.833333333333333,
      "estimate": false,
      "allocated": false,
      "import_kwh": 41594.8500000001,
      "export_kwh": 0.0,
      "forecast_kwh": 0.0,
      "peak_kw": 121.308000000194,
      "peak_at": "2026-11-24T12:15:00Z",
      "intervals": 2404,
      "missing": 0,
      "first_missing": null,
      "lines": [
        {
          "kind": "energy",
          "label": "winter peak energy",
          "qty": 6995.74400000088,
          "unit": "kWh",
          "price": 0.35,
          "cost": 2448.5104000003
        },
        {
          "kind": "energy",
          "label": "winter off_peak energy",
          "qty": 34599.1059999992,
          "unit": "kWh",
          "price": 0.15,
          "cost": 5189.86589999988
        },
        {
          "kind": "demand",
          "label": "max_demand demand",
          "qty": 121.308000000194,
          "unit": "kW",
          "price": 20.0,
          "cost": 2426.16000000387,
          "peak_at": "2026-11-24T12:15:00Z",
          "peak_s": 900,
          "no_data": false,
          "from_forecast": false
        },
        {
          "kind": "fixed",
          "label": "customer (per day)",
          "qty": 25.0,
          "unit": "day",
          "price": 3.0,
          "cost": 75.0
        }
      ],
      "subtotal": 10139.5363000041,
      "tax": 0.0,
      "total": 10139.5363000041,
      "notes": [
        "partial"
      ],
      "note": "the data covers part of the period; fixed charges pro-rated"
    }
  ]
};

/** /api/v1/analytics/savings?building=hpo&baseline=2024-10-30/2025-10-29&reporting=2025-11-13/2026-11-12 (the daily series cut to its first 5 days) */

export const SAVINGS: Savings = {
  "building": "hpo",
  "meter": "meter-main",
  "baseline": {
    "from": "2024-10-30T04:00:00.000Z",
    "to": "2025-10-30T04:00:00.000Z",
    "model": {
      "method": "caltrack_hourly",
      "parameters": 176,
      "points": 8760,
      "cvrmse": 0.037296534669763085,
      "nmbe": 1.0659572857439213e-05,
      "r2": 0.9919786538446281,
      "guideline14": {
        "pass": true,
        "cvrmse_max": 0.3,
        "nmbe_max": 0.1
      },
      "residual_autocorrelation": -0.01992556739715733,
      "month_block_cv": 0.0017976520799074694
    }
  },
  "reporting": {
    "from": "2025-11-13T05:00:00.000Z",
    "to": "2026-11-13T05:00:00.000Z"
  },
  "savings": {
    "intervals": 8760,
    "intervals_used": 8760,
    "baseline_kwh": 665677.639402485,
    "actual_kwh": 598865.222,
    "avoided_kwh": 66812.41740248504,
    "percent": 10.036752543236414,
    "confidence": 0.9,
    "guideline14": {
      "low_kwh": 66262.5288952564,
      "high_kwh": 67362.30590971367,
      "fsu": 0.008230333949990874
    },
    "with_drift": {
      "low_kwh": 41926.81588330363,
      "high_kwh": 91698.01892166644,
      "sd_block_kwh": 336.1900147300796,
      "sd_drift_kwh": 13852.935436493011,
      "sd_prior_kwh": 0.0
    }
  },
  "measures": [
    {
      "id": "vfd",
      "name": "Fan VFDs",
      "start": "2025-11-13",
      "savings": {
        "intervals": 4319,
        "intervals_used": 4319,
        "baseline_kwh": 344459.661637606,
        "actual_kwh": 310099.27800000005,
        "avoided_kwh": 34360.38363760593,
        "percent": 9.975154557794143,
        "confidence": 0.9,
        "guideline14": {
          "low_kwh": 33955.146260507434,
          "high_kwh": 34765.62101470443,
          "fsu": 0.011793738433554224
        },
        "with_drift": {
          "low_kwh": 25079.26783325374,
          "high_kwh": 43641.49944195813,
          "sd_block_kwh": 230.2742082365872,
          "sd_drift_kwh": 5162.857766032331,
          "sd_prior_kwh": 0.0
        }
      }
    },
    {
      "id": "led",
      "name": "LED retrofit",
      "start": "2026-05-12",
      "description": "all floors",
      "savings": {
        "intervals": 4441,
        "intervals_used": 4441,
        "baseline_kwh": 321217.9777648759,
        "actual_kwh": 288765.9439999999,
        "avoided_kwh": 32452.033764876018,
        "percent": 10.10280744268621,
        "confidence": 0.9,
        "guideline14": {
          "low_kwh": 32079.365694926615,
          "high_kwh": 32824.70183482542,
          "fsu": 0.011483658394092792
        },
        "with_drift": {
          "low_kwh": 16839.937994631313,
          "high_kwh": 48064.12953512072,
          "sd_block_kwh": 235.24451484341625,
          "sd_drift_kwh": 8690.07767046068,
          "sd_prior_kwh": 0.0
        }
      }
    }
  ],
  "normalised": null,
  "cost": {
    "tariff": "b19",
    "currency": "USD",
    "baseline": 158914.8010878616,
    "actual": 143704.23669999756,
    "savings": 15210.564387864026,
    "note": "hourly data: demand charges use hourly means, which understate 15-minute peaks"
  },
  "notes": [
    "the with_drift interval adds the out-of-sample error of month blocks and the drift of the building's level seen within the baseline; a change of use the baseline never saw (occupancy, new equipment) is not in it",
    "normalised savings need two earlier years of outdoor temperature in the store"
  ],
  "daily": [
    {
      "date": "2025-11-13",
      "baseline_kwh": 1847.9344529388945,
      "actual_kwh": 1680.1500000000233
    },
    {
      "date": "2025-11-14",
      "baseline_kwh": 1902.5195783211384,
      "actual_kwh": 1713.375999999931
    },
    {
      "date": "2025-11-15",
      "baseline_kwh": 1302.664213402739,
      "actual_kwh": 1170.798999999999
    },
    {
      "date": "2025-11-16",
      "baseline_kwh": 1327.6212741058957,
      "actual_kwh": 1185.6419999999925
    },
    {
      "date": "2025-11-17",
      "baseline_kwh": 2023.5309148073277,
      "actual_kwh": 1807.908000000054
    }
  ]
};

/** /api/v1/analytics/savings?building=hpo&baseline=2024-10-30/2025-10-29&reporting=2025-11-13/2026-11-12&method=daily (the daily series cut to its first 5 days) */

export const SAVINGS_DAILY: Savings = {
  "building": "hpo",
  "meter": "meter-main",
  "baseline": {
    "from": "2024-10-30T04:00:00.000Z",
    "to": "2025-10-30T04:00:00.000Z",
    "model": {
      "method": "caltrack_daily",
      "parameters": 3,
      "points": 365,
      "cvrmse": 0.18068035986048514,
      "nmbe": -3.643970965520898e-17,
      "r2": 0.35247562242465846,
      "guideline14": {
        "pass": true,
        "cvrmse_max": 0.3,
        "nmbe_max": 0.1
      },
      "residual_autocorrelation": 0.3006210364006347,
      "month_block_cv": 0.017146307463142742,
      "daily": {
        "kind": "hdd_cdd",
        "base_kwh_per_day": 1487.907700842562,
        "heating_kwh_per_kday": 46.069981614962465,
        "cooling_kwh_per_kday": 66.29623368197528,
        "heating_balance_c": 12.222222222222221,
        "cooling_balance_c": 17.22222222222222
      }
    }
  },
  "reporting": {
    "from": "2025-11-13T05:00:00.000Z",
    "to": "2026-11-13T05:00:00.000Z"
  },
  "savings": {
    "intervals": 365,
    "intervals_used": 365,
    "baseline_kwh": 666602.4212180924,
    "actual_kwh": 598865.222,
    "avoided_kwh": 67737.19921809249,
    "percent": 10.161559133601001,
    "confidence": 0.9,
    "guideline14": {
      "low_kwh": 49783.13893434913,
      "high_kwh": 85691.25950183584,
      "fsu": 0.26505465964036873
    },
    "with_drift": {
      "low_kwh": 42207.321290104606,
      "high_kwh": 93267.07714608037,
      "sd_block_kwh": 3206.874048077708,
      "sd_drift_kwh": 13849.330499496378,
      "sd_prior_kwh": 0.0
    }
  },
  "measures": [
    {
      "id": "vfd",
      "name": "Fan VFDs",
      "start": "2025-11-13",
      "savings": {
        "intervals": 180,
        "intervals_used": 180,
        "baseline_kwh": 344784.9346691999,
        "actual_kwh": 310099.27800000005,
        "avoided_kwh": 34685.656669199874,
        "percent": 10.060084760512707,
        "confidence": 0.9,
        "guideline14": {
          "low_kwh": 21461.918149306795,
          "high_kwh": 47909.39518909295,
          "fsu": 0.38124515404188614
        },
        "with_drift": {
          "low_kwh": 24609.12882260317,
          "high_kwh": 44762.18451579658,
          "sd_block_kwh": 2196.9599554170295,
          "sd_drift_kwh": 5162.901462818726,
          "sd_prior_kwh": 0.0
        }
      }
    },
    {
      "id": "led",
      "name": "LED retrofit",
      "start": "2026-05-12",
      "description": "all floors",
      "savings": {
        "intervals": 185,
        "intervals_used": 185,
        "baseline_kwh": 321817.4865488915,
        "actual_kwh": 288765.9439999999,
        "avoided_kwh": 33051.54254889162,
        "percent": 10.270275522728728,
        "confidence": 0.9,
        "guideline14": {
          "low_kwh": 20876.62583634154,
          "high_kwh": 45226.459261441705,
          "fsu": 0.3683615278936011
        },
        "with_drift": {
          "low_kwh": 16939.77005767641,
          "high_kwh": 49163.315040106834,
          "sd_block_kwh": 2243.5867156718664,
          "sd_drift_kwh": 8686.429036677655,
          "sd_prior_kwh": 0.0
        }
      }
    }
  ],
  "normalised": null,
  "cost": null,
  "notes": [
    "the with_drift interval adds the out-of-sample error of month blocks and the drift of the building's level seen within the baseline; a change of use the baseline never saw (occupancy, new equipment) is not in it",
    "normalised savings need two earlier years of outdoor temperature in the store",
    "cost savings need the hourly method: a tariff prices hours, the daily model predicts days"
  ],
  "daily": [
    {
      "date": "2025-11-13",
      "baseline_kwh": 1655.2671468326055,
      "actual_kwh": 1680.1500000000233
    },
    {
      "date": "2025-11-14",
      "baseline_kwh": 1713.645491869032,
      "actual_kwh": 1713.375999999931
    },
    {
      "date": "2025-11-15",
      "baseline_kwh": 1824.7259762904082,
      "actual_kwh": 1170.798999999999
    },
    {
      "date": "2025-11-16",
      "baseline_kwh": 1854.0149671021209,
      "actual_kwh": 1185.6419999999925
    },
    {
      "date": "2025-11-17",
      "baseline_kwh": 1832.4235023852416,
      "actual_kwh": 1807.908000000054
    }
  ]
};

/** /api/v1/predictions/load?meter=meter-hvac 409 */

export const NO_MODEL = {"code": "no_model", "message": "no forecast: needs 90 days with >= 90 % coverage, has 0 (no readings yet)"} as const;

/** Answers a test may override: return a Response to take over a request, undefined to let sbems answer. */
export type EngineRoute = (c: Call) => Response | undefined;

/** sbems with the analytics engine, for a user with these roles; PUTs answer with what they stored. */
export function engineServer(roles: string[], extra: EngineRoute = () => undefined) {
  return (c: Call): Response => {
    if (c.path === '/api/v1/auth/login') return json(200, tokens({ roles }));
    const r = extra(c);
    if (r) return r;
    const put = c.method === 'PUT';
    switch (c.path) {
      case '/api/v1/buildings/hpo': return json(200, A_BUILDING);
      case '/api/v1/equipment': return json(200, page(E_METERS));
      case '/api/v1/zones': return json(200, page(E_ZONES));
      case '/api/v1/analytics/models': return json(200, MODELS);
      case '/api/v1/analytics/models/retrain':
        return json(202, { target: (c.body as { target: string }).target, status: 'queued' });
      case '/api/v1/predictions/load':
        return c.query.get('meter') === 'meter-main' ? json(200, LOAD_FORECAST) : json(409, { error: NO_MODEL });
      case '/api/v1/predictions/load/accuracy': return json(200, ACCURACY);
      case '/api/v1/predictions/temperature': return json(200, TEMP_PREDICTION);
      case '/api/v1/tariffs': return json(200, TARIFFS);
      case '/api/v1/buildings/hpo/tariff': return json(200, put ? c.body : BUILDING_TARIFF);
      case '/api/v1/buildings/hpo/holidays': return json(200, put ? c.body : HOLIDAYS);
      case '/api/v1/buildings/hpo/measures': return json(200, put ? c.body : MEASURES);
      case '/api/v1/analytics/cost': return json(200, COST);
      case '/api/v1/analytics/savings': return json(200, c.query.get('method') === 'daily' ? SAVINGS_DAILY : SAVINGS);
    }
    if (c.path.startsWith('/api/v1/tariffs/')) {
      if (put) return json(201, c.body);
      if (c.method === 'DELETE') return empty(204);
    }
    return apiError(404, 'not_found');
  };
}
