import { changeLookupTool } from './change-lookup.js';
import { createLocalizeTool } from './localize.js';
import { listSystemsTool } from './list-systems.js';
import { noiseRuleAddTool, noiseRuleRemoveTool, noiseRulesTool } from './noise-rules.js';
import { oncallTool } from './oncall.js';
import { openIncidentsTool } from './open-incidents.js';
import { ToolRegistry } from './registry.js';
import { getRunbookTool, searchRunbooksTool } from './search-runbooks.js';
import { diffSnapshotsTool } from './snapshot-diff.js';
import type { ToolDefinition } from './tool.js';

/** Every shipped tool. Adding a tool is one file in tools/ and one line here. */
export const builtinTools: ToolDefinition[] = [listSystemsTool, oncallTool, changeLookupTool, openIncidentsTool, searchRunbooksTool, getRunbookTool];
// Change intelligence: perception-factor diffs and their noise rules.
builtinTools.push(diffSnapshotsTool, noiseRulesTool, noiseRuleAddTool, noiseRuleRemoveTool);

export function createToolRegistry(extra: ToolDefinition[] = []): ToolRegistry {
  const registry = new ToolRegistry();
  for (const tool of [...builtinTools, ...extra]) registry.register(tool);
  // The localization card calls other tools through the registry, so it is built with it.
  registry.register(createLocalizeTool(registry));
  return registry;
}
