/**
 * Equipment of the simulated office (`sbems-sim --site-json`), a subset as GET /equipment and
 * GET /points answer it, with integer point ids as the store would give them; and an sbems for the
 * equipment pages' tests, played at fetch level.
 */
import type { EqEquipment, EqPoint } from '../api/equipment';
import type { Zone } from '../api/types';
import { apiError, json, tokens } from './fetchMock';
import type { Call } from './fetchMock';
import { BUILDING, EMPTY_HISTORY, page } from './fixtures';

export const EQ_ZONES: Zone[] = [
  {"id": "f1-south", "building": "hpo", "name": "Floor 1 south perimeter", "floor": 1},
  {"id": "f1-east", "building": "hpo", "name": "Floor 1 east perimeter", "floor": 1},
];

export const EQ_EQUIPMENT: EqEquipment[] = [
  {"id": "ahu-1", "building": "hpo", "name": "AHU-1", "vendor": "Trane", "model": "Tracer UC400 (simulated)", "type": "ahu", "brick": "AHU"},
  {"id": "vav-1-01", "building": "hpo", "name": "VAV-1-01", "vendor": "Trane", "model": "Tracer UC400 (simulated)", "type": "vav", "brick": "Variable_Air_Volume_Box_With_Reheat", "zone": "f1-south", "parent": "ahu-1"},
  {"id": "vav-1-02", "building": "hpo", "name": "VAV-1-02", "vendor": "Trane", "model": "Tracer UC400 (simulated)", "type": "vav", "brick": "Variable_Air_Volume_Box_With_Reheat", "zone": "f1-east", "parent": "ahu-1"},
  {"id": "ch-1", "building": "hpo", "name": "CH-1", "vendor": "Trane", "model": "Tracer UC400 (simulated)", "type": "chiller", "brick": "Chiller"},
  {"id": "blr-1", "building": "hpo", "name": "BLR-1", "vendor": "Trane", "model": "Tracer UC400 (simulated)", "type": "boiler", "brick": "Boiler"},
  {"id": "mtr-main", "building": "hpo", "name": "Main electricity meter", "type": "meter", "vendor": "Schneider Electric", "model": "PowerLogic PM5560 (simulated)", "brick": "Building_Electrical_Meter", "tags": ["elec", "meter", "equip", "siteMeter"]},
  {"id": "mtr-hvac", "building": "hpo", "name": "HVAC sub-meter", "type": "meter", "vendor": "Eastron", "model": "SDM630-Modbus V2 (simulated)", "brick": "Electrical_Meter", "tags": ["elec", "meter", "equip", "submeter"], "parent": "mtr-main"},
  {"id": "mtr-chiller", "building": "hpo", "name": "Chiller sub-meter", "type": "meter", "vendor": "Eastron", "model": "SDM630-Modbus V2 (simulated)", "brick": "Electrical_Meter", "tags": ["elec", "meter", "equip", "submeter"], "parent": "mtr-hvac"},
  {"id": "rt-1-01", "building": "hpo", "name": "RT-1-01 (Floor 1 south perimeter)", "type": "thermostat", "vendor": "Siemens", "model": "RDS110 (simulated)", "brick": "Thermostat", "tags": ["thermostat", "equip"]},
  {"id": "iaq-1-01", "building": "hpo", "name": "IAQ-1-01", "type": "sensor", "vendor": "sbems-sim", "model": "LoRaWAN IAQ + people counter (simulated)", "brick": "Air_Quality_Sensor", "tags": ["iaq", "sensor", "device"]},
  {"id": "weather", "building": "hpo", "name": "Weather service (simulated Open-Meteo)", "type": "other", "vendor": "sbems-sim", "model": "Open-Meteo forecast API (simulated)", "brick": "Weather_Station", "tags": ["weatherStation", "equip"]},
];

export const EQ_POINTS: EqPoint[] = [
  {"id": "ahu-1.supply-fan-start-stop", "equipment": "ahu-1", "name": "Supply Fan Start/Stop", "kind": "command", "writable": true, "brick": "Point", "tags": [], "source": {"driver": "bacnet", "poll_s": 60}, "point_id": 100},
  {"id": "ahu-1.supply-fan-speed-command", "equipment": "ahu-1", "name": "Supply Fan Speed Command", "kind": "command", "writable": true, "brick": "Fan_Speed_Command", "tags": ["discharge", "fan", "speed", "cmd"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "%", "point_id": 101},
  {"id": "ahu-1.outdoor-air-damper-command", "equipment": "ahu-1", "name": "Outdoor Air Damper Command", "kind": "command", "writable": true, "brick": "Damper_Position_Command", "tags": ["outside", "air", "damper", "cmd"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "%", "point_id": 102},
  {"id": "ahu-1.cooling-valve-command", "equipment": "ahu-1", "name": "Cooling Valve Command", "kind": "command", "writable": true, "brick": "Valve_Position_Command", "tags": ["cool", "valve", "cmd"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "%", "point_id": 103},
  {"id": "ahu-1.discharge-air-temp-setpoint", "equipment": "ahu-1", "name": "Discharge Air Temp Setpoint", "kind": "setpoint", "writable": true, "brick": "Discharge_Air_Temperature_Setpoint", "tags": ["discharge", "air", "temp", "sp"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "°C", "point_id": 104},
  {"id": "ahu-1.duct-static-pressure-setpoint", "equipment": "ahu-1", "name": "Duct Static Pressure Setpoint", "kind": "setpoint", "writable": true, "brick": "Supply_Air_Static_Pressure_Setpoint", "tags": ["discharge", "air", "pressure", "sp"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "Pa", "point_id": 105},
  {"id": "ahu-1.discharge-air-temp", "equipment": "ahu-1", "name": "Discharge Air Temp", "kind": "temperature", "writable": false, "brick": "Discharge_Air_Temperature_Sensor", "tags": ["discharge", "air", "temp", "sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "°C", "point_id": 106},
  {"id": "ahu-1.mixed-air-temp", "equipment": "ahu-1", "name": "Mixed Air Temp", "kind": "temperature", "writable": false, "brick": "Mixed_Air_Temperature_Sensor", "tags": ["mixed", "air", "temp", "sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "°C", "point_id": 107},
  {"id": "ahu-1.return-air-temp", "equipment": "ahu-1", "name": "Return Air Temp", "kind": "temperature", "writable": false, "brick": "Return_Air_Temperature_Sensor", "tags": ["return", "air", "temp", "sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "°C", "point_id": 108},
  {"id": "ahu-1.outdoor-air-fraction", "equipment": "ahu-1", "name": "Outdoor Air Fraction", "kind": "other", "writable": false, "brick": "Sensor", "tags": ["sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "%", "point_id": 109},
  {"id": "ahu-1.economizer-enabled", "equipment": "ahu-1", "name": "Economizer Enabled", "kind": "other", "writable": false, "brick": "Sensor", "tags": ["sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "point_id": 110},
  {"id": "ahu-1.supply-air-flow", "equipment": "ahu-1", "name": "Supply Air Flow", "kind": "flow", "writable": false, "brick": "Supply_Air_Flow_Sensor", "tags": ["discharge", "air", "flow", "sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "m³/s", "point_id": 111},
  {"id": "ahu-1.duct-static-pressure", "equipment": "ahu-1", "name": "Duct Static Pressure", "kind": "pressure", "writable": false, "brick": "Supply_Air_Static_Pressure_Sensor", "tags": ["discharge", "air", "pressure", "sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "Pa", "point_id": 112},
  {"id": "ahu-1.supply-fan-power", "equipment": "ahu-1", "name": "Supply Fan Power", "kind": "power", "writable": false, "brick": "Electric_Power_Sensor", "tags": ["elec", "power", "sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "kW", "point_id": 113},
  {"id": "ahu-1.cooling-coil-load", "equipment": "ahu-1", "name": "Cooling Coil Load", "kind": "power", "writable": false, "brick": "Electric_Power_Sensor", "tags": ["elec", "power", "sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "kW", "point_id": 114},
  {"id": "ahu-1.return-air-co2", "equipment": "ahu-1", "name": "Return Air CO2", "kind": "co2", "writable": false, "brick": "Return_Air_CO2_Sensor", "tags": ["return", "air", "co2", "sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "ppm", "point_id": 115},
  {"id": "ahu-1.discharge-air-humidity", "equipment": "ahu-1", "name": "Discharge Air Humidity", "kind": "humidity", "writable": false, "brick": "Discharge_Air_Humidity_Sensor", "tags": ["discharge", "air", "humidity", "sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "%RH", "point_id": 116},
  {"id": "ahu-1.return-air-humidity", "equipment": "ahu-1", "name": "Return Air Humidity", "kind": "humidity", "writable": false, "brick": "Return_Air_Humidity_Sensor", "tags": ["return", "air", "humidity", "sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "%RH", "point_id": 117},
  {"id": "vav-1-01.space-temperature", "equipment": "vav-1-01", "name": "Space Temperature", "kind": "temperature", "writable": false, "brick": "Zone_Air_Temperature_Sensor", "tags": ["zone", "air", "temp", "sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "°C", "point_id": 118},
  {"id": "vav-1-01.space-temperature-heating-setpoint", "equipment": "vav-1-01", "name": "Space Temperature Heating Setpoint", "kind": "setpoint", "writable": true, "brick": "Zone_Air_Heating_Temperature_Setpoint", "tags": ["zone", "air", "temp", "heating", "sp"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "°C", "point_id": 119},
  {"id": "vav-1-01.space-temperature-cooling-setpoint", "equipment": "vav-1-01", "name": "Space Temperature Cooling Setpoint", "kind": "setpoint", "writable": true, "brick": "Zone_Air_Cooling_Temperature_Setpoint", "tags": ["zone", "air", "temp", "cooling", "sp"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "°C", "point_id": 120},
  {"id": "vav-1-01.space-co2", "equipment": "vav-1-01", "name": "Space CO2", "kind": "co2", "writable": false, "brick": "CO2_Level_Sensor", "tags": ["zone", "air", "co2", "sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "ppm", "point_id": 121},
  {"id": "vav-1-01.occupancy-status", "equipment": "vav-1-01", "name": "Occupancy Status", "kind": "other", "writable": false, "brick": "Sensor", "tags": ["sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "point_id": 122},
  {"id": "vav-1-01.discharge-air-flow", "equipment": "vav-1-01", "name": "Discharge Air Flow", "kind": "flow", "writable": false, "brick": "Discharge_Air_Flow_Sensor", "tags": ["discharge", "air", "flow", "sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "m³/s", "point_id": 123},
  {"id": "vav-1-01.discharge-air-flow-setpoint", "equipment": "vav-1-01", "name": "Discharge Air Flow Setpoint", "kind": "setpoint", "writable": true, "brick": "Discharge_Air_Flow_Setpoint", "tags": ["discharge", "air", "flow", "sp"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "m³/s", "point_id": 124},
  {"id": "vav-1-01.air-valve-position-command", "equipment": "vav-1-01", "name": "Air Valve Position Command", "kind": "command", "writable": true, "brick": "Valve_Position_Command", "tags": ["valve", "cmd"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "%", "point_id": 125},
  {"id": "vav-1-01.reheat-valve-command", "equipment": "vav-1-01", "name": "Reheat Valve Command", "kind": "command", "writable": true, "brick": "Valve_Position_Command", "tags": ["heat", "valve", "cmd"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "%", "point_id": 126},
  {"id": "vav-1-01.discharge-air-temp", "equipment": "vav-1-01", "name": "Discharge Air Temp", "kind": "temperature", "writable": false, "brick": "Discharge_Air_Temperature_Sensor", "tags": ["discharge", "air", "temp", "sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "°C", "point_id": 127},
  {"id": "vav-1-01.vav-reheat-kw", "equipment": "vav-1-01", "name": "Vav Reheat Kw", "kind": "power", "writable": false, "brick": "Electric_Power_Sensor", "tags": ["elec", "power", "sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "kW", "point_id": 128},
  {"id": "vav-1-01.space-relative-humidity", "equipment": "vav-1-01", "name": "Space Relative Humidity", "kind": "humidity", "writable": false, "brick": "Zone_Air_Humidity_Sensor", "tags": ["zone", "air", "humidity", "sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "%RH", "point_id": 129},
  {"id": "vav-1-02.space-temperature", "equipment": "vav-1-02", "name": "Space Temperature", "kind": "temperature", "writable": false, "brick": "Zone_Air_Temperature_Sensor", "tags": ["zone", "air", "temp", "sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "°C", "point_id": 130},
  {"id": "vav-1-02.space-temperature-heating-setpoint", "equipment": "vav-1-02", "name": "Space Temperature Heating Setpoint", "kind": "setpoint", "writable": true, "brick": "Zone_Air_Heating_Temperature_Setpoint", "tags": ["zone", "air", "temp", "heating", "sp"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "°C", "point_id": 131},
  {"id": "vav-1-02.space-temperature-cooling-setpoint", "equipment": "vav-1-02", "name": "Space Temperature Cooling Setpoint", "kind": "setpoint", "writable": true, "brick": "Zone_Air_Cooling_Temperature_Setpoint", "tags": ["zone", "air", "temp", "cooling", "sp"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "°C", "point_id": 132},
  {"id": "vav-1-02.space-co2", "equipment": "vav-1-02", "name": "Space CO2", "kind": "co2", "writable": false, "brick": "CO2_Level_Sensor", "tags": ["zone", "air", "co2", "sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "ppm", "point_id": 133},
  {"id": "vav-1-02.occupancy-status", "equipment": "vav-1-02", "name": "Occupancy Status", "kind": "other", "writable": false, "brick": "Sensor", "tags": ["sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "point_id": 134},
  {"id": "vav-1-02.discharge-air-flow", "equipment": "vav-1-02", "name": "Discharge Air Flow", "kind": "flow", "writable": false, "brick": "Discharge_Air_Flow_Sensor", "tags": ["discharge", "air", "flow", "sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "m³/s", "point_id": 135},
  {"id": "vav-1-02.discharge-air-flow-setpoint", "equipment": "vav-1-02", "name": "Discharge Air Flow Setpoint", "kind": "setpoint", "writable": true, "brick": "Discharge_Air_Flow_Setpoint", "tags": ["discharge", "air", "flow", "sp"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "m³/s", "point_id": 136},
  {"id": "vav-1-02.air-valve-position-command", "equipment": "vav-1-02", "name": "Air Valve Position Command", "kind": "command", "writable": true, "brick": "Valve_Position_Command", "tags": ["valve", "cmd"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "%", "point_id": 137},
  {"id": "vav-1-02.reheat-valve-command", "equipment": "vav-1-02", "name": "Reheat Valve Command", "kind": "command", "writable": true, "brick": "Valve_Position_Command", "tags": ["heat", "valve", "cmd"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "%", "point_id": 138},
  {"id": "vav-1-02.discharge-air-temp", "equipment": "vav-1-02", "name": "Discharge Air Temp", "kind": "temperature", "writable": false, "brick": "Discharge_Air_Temperature_Sensor", "tags": ["discharge", "air", "temp", "sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "°C", "point_id": 139},
  {"id": "vav-1-02.vav-reheat-kw", "equipment": "vav-1-02", "name": "Vav Reheat Kw", "kind": "power", "writable": false, "brick": "Electric_Power_Sensor", "tags": ["elec", "power", "sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "kW", "point_id": 140},
  {"id": "vav-1-02.space-relative-humidity", "equipment": "vav-1-02", "name": "Space Relative Humidity", "kind": "humidity", "writable": false, "brick": "Zone_Air_Humidity_Sensor", "tags": ["zone", "air", "humidity", "sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "%RH", "point_id": 141},
  {"id": "ch-1.enable", "equipment": "ch-1", "name": "Enable", "kind": "command", "writable": true, "brick": "Point", "tags": [], "source": {"driver": "bacnet", "poll_s": 60}, "point_id": 142},
  {"id": "ch-1.chw-sp", "equipment": "ch-1", "name": "Chw Sp", "kind": "setpoint", "writable": true, "brick": "Chilled_Water_Supply_Temperature_Setpoint", "tags": ["chilled", "water", "leaving", "temp", "sp"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "°C", "point_id": 143},
  {"id": "ch-1.chw-temp", "equipment": "ch-1", "name": "Chw Temp", "kind": "temperature", "writable": false, "brick": "Chilled_Water_Supply_Temperature_Sensor", "tags": ["chilled", "water", "leaving", "temp", "sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "°C", "point_id": 144},
  {"id": "ch-1.load-kw", "equipment": "ch-1", "name": "Load Kw", "kind": "power", "writable": false, "brick": "Electric_Power_Sensor", "tags": ["elec", "power", "sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "kW", "point_id": 145},
  {"id": "ch-1.kw", "equipment": "ch-1", "name": "Kw", "kind": "power", "writable": false, "brick": "Electric_Power_Sensor", "tags": ["elec", "power", "sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "kW", "point_id": 146},
  {"id": "ch-1.cop", "equipment": "ch-1", "name": "Cop", "kind": "other", "writable": false, "brick": "Sensor", "tags": ["sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "point_id": 147},
  {"id": "ch-1.plr", "equipment": "ch-1", "name": "Plr", "kind": "other", "writable": false, "brick": "Sensor", "tags": ["sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "point_id": 148},
  {"id": "ch-1.running", "equipment": "ch-1", "name": "Running", "kind": "other", "writable": false, "brick": "Sensor", "tags": ["sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "point_id": 149},
  {"id": "blr-1.enable", "equipment": "blr-1", "name": "Enable", "kind": "command", "writable": true, "brick": "Point", "tags": [], "source": {"driver": "bacnet", "poll_s": 60}, "point_id": 150},
  {"id": "blr-1.load-kw", "equipment": "blr-1", "name": "Load Kw", "kind": "power", "writable": false, "brick": "Electric_Power_Sensor", "tags": ["elec", "power", "sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "kW", "point_id": 151},
  {"id": "blr-1.gas-kw", "equipment": "blr-1", "name": "Gas Kw", "kind": "power", "writable": false, "brick": "Electric_Power_Sensor", "tags": ["elec", "power", "sensor"], "source": {"driver": "bacnet", "poll_s": 60}, "unit": "kW", "point_id": 152},
  {"id": "mtr-main.power", "equipment": "mtr-main", "name": "Active power", "kind": "power", "source": {"driver": "modbus", "poll_s": 15}, "brick": "Electric_Power_Sensor", "tags": ["elec", "power", "sensor"], "unit": "kW", "point_id": 153},
  {"id": "mtr-main.energy", "equipment": "mtr-main", "name": "Active energy delivered", "kind": "energy", "source": {"driver": "modbus", "poll_s": 60}, "brick": "Electric_Energy_Sensor", "tags": ["elec", "energy", "sensor"], "unit": "Wh", "point_id": 154},
  {"id": "mtr-main.voltage_an", "equipment": "mtr-main", "name": "Voltage A-N", "kind": "other", "source": {"driver": "modbus", "poll_s": 60}, "brick": "Voltage_Sensor", "tags": ["elec", "volt", "sensor"], "unit": "V", "point_id": 155},
  {"id": "mtr-hvac.power", "equipment": "mtr-hvac", "name": "Active power", "kind": "power", "source": {"driver": "modbus", "poll_s": 15}, "brick": "Electric_Power_Sensor", "tags": ["elec", "power", "sensor"], "unit": "W", "point_id": 156},
  {"id": "mtr-hvac.energy", "equipment": "mtr-hvac", "name": "Import active energy", "kind": "energy", "source": {"driver": "modbus", "poll_s": 60}, "brick": "Electric_Energy_Sensor", "tags": ["elec", "energy", "sensor"], "unit": "kWh", "point_id": 157},
  {"id": "mtr-chiller.power", "equipment": "mtr-chiller", "name": "Active power", "kind": "power", "source": {"driver": "modbus", "poll_s": 15}, "brick": "Electric_Power_Sensor", "tags": ["elec", "power", "sensor"], "unit": "W", "point_id": 158},
  {"id": "mtr-chiller.energy", "equipment": "mtr-chiller", "name": "Import active energy", "kind": "energy", "source": {"driver": "modbus", "poll_s": 60}, "brick": "Electric_Energy_Sensor", "tags": ["elec", "energy", "sensor"], "unit": "kWh", "point_id": 159},
  {"id": "rt-1-01.temperature", "equipment": "rt-1-01", "name": "RT-1-01 Room temperature", "kind": "temperature", "source": {"driver": "rest", "poll_s": 60}, "brick": "Zone_Air_Temperature_Sensor", "tags": ["zone", "air", "temp", "sensor"], "unit": "°C", "point_id": 160},
  {"id": "rt-1-01.humidity", "equipment": "rt-1-01", "name": "RT-1-01 Room humidity", "kind": "humidity", "source": {"driver": "rest", "poll_s": 300}, "brick": "Zone_Air_Humidity_Sensor", "tags": ["zone", "air", "humidity", "sensor"], "unit": "%RH", "min": 0.0, "max": 100.0, "point_id": 161},
  {"id": "rt-1-01.heating_setpoint", "equipment": "rt-1-01", "name": "RT-1-01 Heating setpoint", "kind": "setpoint", "source": {"driver": "rest", "poll_s": 300}, "brick": "Zone_Air_Heating_Temperature_Setpoint", "tags": ["zone", "air", "temp", "heating", "sp"], "unit": "°C", "writable": true, "min": 5.0, "max": 30.0, "point_id": 162},
  {"id": "rt-1-01.cooling_setpoint", "equipment": "rt-1-01", "name": "RT-1-01 Cooling setpoint", "kind": "setpoint", "source": {"driver": "rest", "poll_s": 300}, "brick": "Zone_Air_Cooling_Temperature_Setpoint", "tags": ["zone", "air", "temp", "cooling", "sp"], "unit": "°C", "writable": true, "min": 15.0, "max": 35.0, "point_id": 163},
  {"id": "rt-1-01.mode", "equipment": "rt-1-01", "name": "RT-1-01 Thermostat mode", "kind": "command", "source": {"driver": "rest", "poll_s": 300}, "brick": "Mode_Command", "tags": ["mode", "cmd"], "writable": true, "min": 0.0, "max": 4.0, "point_id": 164},
  {"id": "rt-1-01.fan", "equipment": "rt-1-01", "name": "RT-1-01 Fan mode", "kind": "command", "source": {"driver": "rest", "poll_s": 300}, "brick": "Mode_Command", "tags": ["fan", "mode", "cmd"], "writable": true, "min": 0.0, "max": 3.0, "point_id": 165},
  {"id": "rt-1-01.occupancy", "equipment": "rt-1-01", "name": "RT-1-01 Occupancy", "kind": "occupancy", "source": {"driver": "rest", "poll_s": 300}, "brick": "Occupancy_Status", "tags": ["occupied", "sensor"], "point_id": 166},
  {"id": "rt-1-01.heating_demand", "equipment": "rt-1-01", "name": "RT-1-01 Heating demand", "kind": "position", "source": {"driver": "rest", "poll_s": 60}, "brick": "Heating_Demand_Sensor", "tags": ["heating", "demand", "sensor"], "unit": "%", "min": 0.0, "max": 100.0, "point_id": 167},
  {"id": "rt-1-01.cooling_demand", "equipment": "rt-1-01", "name": "RT-1-01 Cooling demand", "kind": "position", "source": {"driver": "rest", "poll_s": 60}, "brick": "Cooling_Demand_Sensor", "tags": ["cooling", "demand", "sensor"], "unit": "%", "min": 0.0, "max": 100.0, "point_id": 168},
  {"id": "rt-1-01.hold", "equipment": "rt-1-01", "name": "RT-1-01 Setpoint hold", "kind": "status", "source": {"driver": "rest", "poll_s": 300}, "brick": "Status", "tags": ["hold", "sensor"], "point_id": 169},
  {"id": "rt-1-01.online", "equipment": "rt-1-01", "name": "RT-1-01 Cloud connection", "kind": "status", "source": {"driver": "rest", "poll_s": 300}, "brick": "Status", "tags": ["online", "sensor"], "point_id": 170},
  {"id": "iaq-1-01.co2", "equipment": "iaq-1-01", "name": "CO2", "kind": "co2", "source": {"driver": "mqtt"}, "brick": "CO2_Level_Sensor", "tags": ["zone", "air", "co2", "sensor"], "unit": "ppm", "min": 0.0, "max": 10000.0, "point_id": 171},
  {"id": "iaq-1-01.temperature", "equipment": "iaq-1-01", "name": "Zone air temperature", "kind": "temperature", "source": {"driver": "mqtt"}, "brick": "Zone_Air_Temperature_Sensor", "tags": ["zone", "air", "temp", "sensor"], "unit": "°C", "min": -20.0, "max": 60.0, "point_id": 172},
  {"id": "iaq-1-01.humidity", "equipment": "iaq-1-01", "name": "Zone relative humidity", "kind": "humidity", "source": {"driver": "mqtt"}, "brick": "Zone_Air_Humidity_Sensor", "tags": ["zone", "air", "humidity", "sensor"], "unit": "%RH", "min": 0.0, "max": 100.0, "point_id": 173},
  {"id": "iaq-1-01.occupancy", "equipment": "iaq-1-01", "name": "People count", "kind": "occupancy", "source": {"driver": "mqtt"}, "brick": "Occupancy_Count_Sensor", "tags": ["zone", "occupants", "count", "sensor"], "unit": "count", "min": 0.0, "max": 10000.0, "point_id": 174},
  {"id": "iaq-1-01.occupied", "equipment": "iaq-1-01", "name": "Occupied", "kind": "status", "source": {"driver": "mqtt"}, "brick": "Occupancy_Sensor", "tags": ["zone", "occupied", "sensor"], "point_id": 175},
  {"id": "weather.oat", "equipment": "weather", "name": "Outdoor temperature", "kind": "temperature", "source": {"driver": "weather", "poll_s": 300}, "tags": ["weather", "air", "temp", "sensor"], "unit": "°C", "brick": "Outside_Air_Temperature_Sensor", "point_id": 176},
  {"id": "weather.rh", "equipment": "weather", "name": "Outdoor relative humidity", "kind": "humidity", "source": {"driver": "weather", "poll_s": 300}, "tags": ["weather", "air", "humidity", "sensor"], "unit": "%", "brick": "Outside_Air_Humidity_Sensor", "point_id": 177},
  {"id": "weather.dewpoint", "equipment": "weather", "name": "Outdoor dew point", "kind": "temperature", "source": {"driver": "weather", "poll_s": 300}, "tags": ["weather", "air", "dewpoint", "sensor"], "unit": "°C", "brick": "Outside_Air_Dewpoint_Sensor", "point_id": 178},
  {"id": "weather.ghi", "equipment": "weather", "name": "Global horizontal irradiance (W/m²)", "kind": "other", "source": {"driver": "weather", "poll_s": 300}, "tags": ["weather", "solar", "irradiance", "sensor"], "brick": "Solar_Radiance_Sensor", "point_id": 179},
  {"id": "weather.wind", "equipment": "weather", "name": "Wind speed at 10 m (m/s)", "kind": "other", "source": {"driver": "weather", "poll_s": 300}, "tags": ["weather", "wind", "speed", "sensor"], "brick": "Wind_Speed_Sensor", "point_id": 180},
  {"id": "weather.cloud_cover", "equipment": "weather", "name": "Cloud cover", "kind": "other", "source": {"driver": "weather", "poll_s": 300}, "tags": ["weather", "cloud", "sensor"], "unit": "%", "point_id": 181},
];

export interface EqApiOptions {
  roles?: string[];
  equipment?: EqEquipment[];
  points?: EqPoint[];
  /** POST /points/{p}/write */
  write?: (c: Call) => Response | Promise<Response>;
  /** GET /points/{p}/history */
  history?: (c: Call) => Response;
}

/** sbems as the equipment pages see it. */
export function equipmentApi(o: EqApiOptions = {}) {
  const equipment = o.equipment ?? EQ_EQUIPMENT;
  const points = o.points ?? EQ_POINTS;
  return (c: Call): Response | Promise<Response> => {
    const m = /^\/api\/v1\/(\w+)(?:\/([^/]+))?(?:\/(\w+))?$/.exec(c.path);
    const [, coll, id, sub] = m ?? [];
    if (c.path === '/api/v1/auth/login') return json(200, tokens({ roles: o.roles ?? ['operator'] }));
    if (c.path === '/api/v1/buildings/hpo') return json(200, BUILDING);
    if (coll === 'zones' && !id) return json(200, page(EQ_ZONES));
    if (coll === 'zones') {
      const z = EQ_ZONES.find((x) => x.id === id);
      return z ? json(200, z) : apiError(404, 'not_found');
    }
    if (coll === 'equipment' && !id) return json(200, page(equipment.filter((e) => e.building === c.query.get('building'))));
    if (coll === 'equipment') {
      const e = equipment.find((x) => x.id === id);
      if (!e) return apiError(404, 'not_found', 'no such equipment');
      if (!sub) return json(200, e);
      if (sub === 'telemetry') {
        return json(200, {
          equipment: e.id, type: e.type, name: e.name,
          points: points.filter((p) => p.equipment === e.id).map((p) => ({
            point: p.point_id, slug: p.id, unit: p.unit ?? '', t: null, ts: null, value: null, quality: null,
            kind: p.kind, writable: !!p.writable, name: p.name,
          })),
        });
      }
    }
    if (coll === 'points' && !id) {
      const eq = c.query.get('equipment');
      const b = c.query.get('building');
      const inB = new Set(equipment.filter((e) => e.building === b).map((e) => e.id));
      return json(200, page(points.filter((p) => (eq ? p.equipment === eq : inB.has(p.equipment)))));
    }
    if (coll === 'points' && sub === 'history') return o.history ? o.history(c) : json(200, EMPTY_HISTORY);
    if (coll === 'points' && sub === 'write' && c.method === 'POST') {
      return o.write ? o.write(c) : apiError(503, 'unavailable', 'no running driver serves this point');
    }
    if (coll === 'points' && sub === 'priority') {
      return json(200, { point: id, commandable: true, present_value: 1, relinquish_default: 0, in_control: 16, slots: [{ priority: 16, value: 1, ours: false }] });
    }
    return apiError(404, 'not_found');
  };
}

/** n more sensors (a large building's list), with one temperature point each. */
export function manySensors(n: number, firstPointId = 5000): { equipment: EqEquipment[]; points: EqPoint[] } {
  const equipment: EqEquipment[] = [];
  const points: EqPoint[] = [];
  for (let i = 1; i <= n; i++) {
    const id = `th-${String(i).padStart(2, '0')}`;
    equipment.push({ id, building: 'hpo', name: `Room sensor ${i}`, type: 'sensor', vendor: 'Elsys', model: 'ERS CO2', zone: 'f1-east' });
    points.push({ id: `${id}.temp`, equipment: id, name: 'Temperature', kind: 'temperature', unit: '°C', tags: ['zone', 'air', 'temp', 'sensor'],
                  point_id: firstPointId + i, source: { driver: 'mqtt' } });
  }
  return { equipment, points };
}
