import type { Config } from '../../core/config.js';
import { WarroomError } from '../../core/errors.js';
import type { Queryable } from '../../db/db.js';
import type { FailoverDriver } from './driver.js';
import type { DriverKind, Pool } from './pool-store.js';
import { loadScriptConfig, type ScriptConfig } from './script-config.js';
import { createScriptDriver } from './script-driver.js';
import { createSimulatedDriver } from './simulated-driver.js';

/** Which driver runs a pool's switch: built once by the composition root from the configuration. */
export interface FailoverDrivers {
  /** The pool's own driver, else the configured default; refuses when neither is set or the script driver has no commands. */
  kindFor(pool: Pool): DriverKind;
  driver(kind: DriverKind, db: Queryable): FailoverDriver;
}

export interface FailoverDriverOptions {
  /** For pools that name no driver; unset: such a pool cannot be switched (never simulate by accident). */
  defaultKind?: DriverKind | undefined;
  scripts?: ScriptConfig | undefined;
  simulatedDelayMs?: number;
}

export function createFailoverDrivers(options: FailoverDriverOptions = {}): FailoverDrivers {
  const script = options.scripts ? createScriptDriver(options.scripts) : undefined;
  return {
    kindFor(pool) {
      const kind = pool.driver ?? options.defaultKind;
      if (!kind) {
        throw new WarroomError('failover_no_driver', `No failover driver for ${pool.name} (${pool.id}): the pool names none and WARROOM_FAILOVER_DRIVER is not set.`, {
          hint: 'Set WARROOM_FAILOVER_DRIVER=script with WARROOM_FAILOVER_SCRIPTS, or give the pool "driver" in the import data ("simulated" only for demos).',
        });
      }
      if (kind === 'script' && !script) {
        throw new WarroomError('failover_driver_unconfigured', `${pool.name} (${pool.id}) switches with the script driver, but WARROOM_FAILOVER_SCRIPTS is not set.`, {
          hint: 'Point WARROOM_FAILOVER_SCRIPTS at the file of failover commands (see "Pooled failover" in README.md).',
        });
      }
      return kind;
    },
    driver(kind, db) {
      if (kind === 'simulated') return createSimulatedDriver(db, options.simulatedDelayMs ? { delayMs: options.simulatedDelayMs } : {});
      if (!script) throw new WarroomError('failover_driver_unconfigured', 'The script driver has no commands: WARROOM_FAILOVER_SCRIPTS is not set.');
      return script;
    },
  };
}

/** The drivers as configured; the scripts file is read and checked now, so a bad one stops the start. */
export function failoverDriversFromConfig(config: Pick<Config, 'WARROOM_FAILOVER_DRIVER' | 'WARROOM_FAILOVER_SCRIPTS'>): FailoverDrivers {
  if (config.WARROOM_FAILOVER_DRIVER === 'script' && !config.WARROOM_FAILOVER_SCRIPTS) {
    throw new WarroomError('config_invalid', 'WARROOM_FAILOVER_DRIVER=script needs WARROOM_FAILOVER_SCRIPTS (the file of failover commands).', {
      hint: 'Set WARROOM_FAILOVER_SCRIPTS, or WARROOM_FAILOVER_DRIVER=simulated for a demo.',
    });
  }
  return createFailoverDrivers({
    defaultKind: config.WARROOM_FAILOVER_DRIVER,
    scripts: config.WARROOM_FAILOVER_SCRIPTS ? loadScriptConfig(config.WARROOM_FAILOVER_SCRIPTS) : undefined,
  });
}
