import { changeLookupTool } from './change-intel/change-lookup.js';
import { createLocalizeTool } from './change-intel/localize.js';
import { listSystemsTool } from './oncall/list-systems.js';
import { noiseRuleAddTool, noiseRuleRemoveTool, noiseRulesTool } from './change-intel/noise-rules.js';
import { oncallTool } from './oncall/oncall.js';
import { openIncidentsTool } from './incidents/open-incidents.js';
import { incidentStatusTool } from './incidents/incident-status.js';
import { recentAlertsTool } from './alerts/recent-alerts.js';
import { ToolRegistry } from './registry.js';
import { getRunbookTool, searchRunbooksTool } from './knowledge-search/search-runbooks.js';
import { diffSnapshotsTool } from './change-intel/snapshot-diff.js';
import { createSenseFleetTool, fleetSettingsFromConfig } from './change-intel/sense-fleet.js';
import { configSchema, type Config } from '../core/config.js';
import { failoverStatusTool } from './failover/failover-status.js';
import { createFailoverSwitchTool } from './failover/failover-switch.js';
import { createFailoverDrivers, type FailoverDrivers } from './failover/drivers.js';
import { createFpgaStatusTool, fpgaStatusFile, unavailableFpgaReader, type FpgaReader } from './fpga/fpga-status.js';
import { createFpgaSwitchPathTool } from './fpga/fpga-switch-path.js';
import { fpgaPathDriverFromConfig, type FpgaPathDriver } from './fpga/path-driver.js';
import type { ToolDefinition } from './tool.js';

/** Every shipped tool. Adding a tool is one file in tools/ and one line here. */
export const builtinTools: ToolDefinition[] = [listSystemsTool, oncallTool, changeLookupTool, openIncidentsTool, searchRunbooksTool, getRunbookTool];
// Change intelligence: perception-factor diffs and their noise rules.
builtinTools.push(diffSnapshotsTool, noiseRulesTool, noiseRuleAddTool, noiseRuleRemoveTool);
// Alerts of a system in a window, and one incident's recorded facts (status, impact, ETA, roles).
builtinTools.push(recentAlertsTool, incidentStatusTool);
// Pooled failover: the read; the switch is built with its drivers below.
builtinTools.push(failoverStatusTool);

export interface ToolRegistryOptions {
  /** What configured tools read (the fleet drivers); unset: the defaults, with no fleet driver configured. */
  config?: Config;
  /** How failover_switch acts (app/create-app.ts: from WARROOM_FAILOVER_DRIVER/SCRIPTS); default: only pools that name `simulated`. */
  failoverDrivers?: FailoverDrivers;
  /** How fpga_status and fpga_switch_path read the decoder's status block (the addon or its TypeScript fallback); default: a reader that says it is not in this build. */
  fpgaReader?: FpgaReader;
  /** How fpga_switch_path moves consumers; default: the script driver of WARROOM_FPGA_SWITCH_COMMAND, else none (requests are refused). */
  fpgaPathDriver?: FpgaPathDriver;
}

export function createToolRegistry(extra: ToolDefinition[] = [], options: ToolRegistryOptions = {}): ToolRegistry {
  const registry = new ToolRegistry();
  for (const tool of [...builtinTools, ...extra]) registry.register(tool);
  // Fleet collection reaches hosts through the drivers configured in WARROOM_FLEET_*.
  registry.register(createSenseFleetTool(fleetSettingsFromConfig(options.config ?? configSchema.parse({}))));
  // The localization card calls other tools through the registry, so it is built with it.
  registry.register(createLocalizeTool(registry));
  registry.register(createFailoverSwitchTool(options.failoverDrivers ?? createFailoverDrivers()));
  // FPGA market-data decoder: its status block (WARROOM_FPGA_STATUS_FILE) through the reader given.
  const config = options.config ?? configSchema.parse({});
  const fpga = { read: options.fpgaReader ?? unavailableFpgaReader, defaultFile: fpgaStatusFile(config) };
  registry.register(createFpgaStatusTool(fpga));
  registry.register(createFpgaSwitchPathTool({ ...fpga, driver: options.fpgaPathDriver ?? fpgaPathDriverFromConfig(config) }));
  return registry;
}
