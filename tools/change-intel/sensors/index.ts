import { dbParamsSensor } from './db-params.js';
import { dbSchemaSensor } from './db-schema.js';
import { fileHashSensor } from './file-hash.js';
import { k8sResourceSensor } from './k8s-resource.js';
import { osListenSensor } from './os-listen.js';
import { osMountSensor } from './os-mount.js';
import { osNetconnSensor } from './os-netconn.js';
import { osPackageSensor } from './os-package.js';
import { osProcessSensor } from './os-process.js';
import { osSysctlSensor } from './os-sysctl.js';
import type { Sensor } from './sensor.js';

/** Every shipped sensor. Adding one is a file in tools/change-intel/sensors/ and one line here. */
export const sensors: readonly Sensor[] = [
  osProcessSensor,
  osListenSensor,
  osNetconnSensor,
  fileHashSensor,
  osPackageSensor,
  osSysctlSensor,
  osMountSensor,
  dbSchemaSensor,
  dbParamsSensor,
  k8sResourceSensor,
];

export function findSensor(id: string): Sensor | undefined {
  return sensors.find((s) => s.id === id);
}
