import { changeLookupTool } from './change-lookup.js';
import { listSystemsTool } from './list-systems.js';
import { oncallTool } from './oncall.js';
import { openIncidentsTool } from './open-incidents.js';
import { ToolRegistry } from './registry.js';
import { getRunbookTool, searchRunbooksTool } from './search-runbooks.js';
import type { ToolDefinition } from './tool.js';

/** Every shipped tool. Adding a tool is one file in tools/ and one line here. */
export const builtinTools: ToolDefinition[] = [listSystemsTool, oncallTool, changeLookupTool, openIncidentsTool, searchRunbooksTool, getRunbookTool];

export function createToolRegistry(extra: ToolDefinition[] = []): ToolRegistry {
  const registry = new ToolRegistry();
  for (const tool of [...builtinTools, ...extra]) registry.register(tool);
  return registry;
}
