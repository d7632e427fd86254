import type { z } from 'zod';
import { changeLookupTool } from '../../tools/change-intel/change-lookup.js';
import { localizeToolRef } from '../../tools/change-intel/localize.js';
import { noiseRuleAddTool, noiseRuleRemoveTool, noiseRulesTool } from '../../tools/change-intel/noise-rules.js';
import { senseFleetToolRef } from '../../tools/change-intel/sense-fleet.js';
import { diffSnapshotsTool } from '../../tools/change-intel/snapshot-diff.js';
import { failoverStatusTool } from '../../tools/failover/failover-status.js';
import { failoverSwitchToolRef } from '../../tools/failover/failover-switch.js';
import { fpgaStatusToolRef } from '../../tools/fpga/fpga-status.js';
import { fpgaSwitchPathToolRef } from '../../tools/fpga/fpga-switch-path.js';
import { openIncidentsTool } from '../../tools/incidents/open-incidents.js';
import { incidentStatusTool } from '../../tools/incidents/incident-status.js';
import { recentAlertsTool } from '../../tools/alerts/recent-alerts.js';
import { getRunbookTool } from '../../tools/knowledge-search/search-runbooks.js';
import { listSystemsTool } from '../../tools/oncall/list-systems.js';
import { oncallTool } from '../../tools/oncall/oncall.js';
import type { ToolRef, ToolResult } from '../../tools/tool.js';
import type { Lang, OutgoingMessage } from '../messages.js';
import { diffView, noiseAddedView, noiseRulesView } from './diff-views.js';
import { fleetView } from './fleet-view.js';
import { fpgaStatusView, fpgaSwitchPathView } from './fpga-view.js';
import { failoverStatusView, failoverSwitchView } from './failover-view.js';
import { localizationView } from './localization-view.js';
import { alertsView } from './alerts-view.js';
import { incidentStatusView } from './incident-status-view.js';
import { runbookView } from './runbook-views.js';
import { changesView, incidentsView, oncallView, systemsView, toolProblemView, withAuditNote } from './tool-views.js';

type View<O> = (data: O, lang: Lang, timeZone: string, result: ToolResult<O>) => OutgoingMessage;

interface Entry {
  render(result: ToolResult, lang: Lang, timeZone: string): OutgoingMessage;
}

/** One row: a tool and its view, typed from the tool's output schema. */
function row<I extends z.ZodTypeAny, O extends z.ZodTypeAny>(tool: ToolRef<I, O>, view: View<z.output<O>>): [string, Entry] {
  // The registry validated `data` against this tool's output schema before returning it.
  return [tool.name, { render: (r, lang, tz) => view(r.data as z.output<O>, lang, tz, r as ToolResult<z.output<O>>) }];
}

/** Which view shows which tool's result: the one table for commands and agents alike. */
const TABLE = new Map<string, Entry>([
  row(listSystemsTool, (d, lang) => systemsView(d, lang)),
  row(oncallTool, (d, lang) => oncallView(d, lang)),
  row(changeLookupTool, (d, lang, tz) => changesView(d, lang, tz)),
  row(openIncidentsTool, (d, lang) => incidentsView(d, lang)),
  row(recentAlertsTool, (d, lang, tz) => alertsView(d, lang, tz)),
  row(incidentStatusTool, (d, lang, tz) => incidentStatusView(d, lang, tz)),
  row(getRunbookTool, (d, lang) => runbookView(d, lang)),
  row(localizeToolRef, (d, lang, tz) => localizationView(d, lang, tz)),
  row(diffSnapshotsTool, (d, lang) => diffView(d, lang)),
  row(noiseRulesTool, (d, lang) => noiseRulesView(d, lang)),
  row(noiseRuleAddTool, (d, lang) => noiseAddedView(d, lang)),
  row(noiseRuleRemoveTool, (_d, lang, _tz, r) => ({ lang, text: r.summary })),
  row(senseFleetToolRef, (d, lang) => fleetView(d, lang)),
  row(failoverStatusTool, (d, lang) => failoverStatusView(d, lang)),
  row(failoverSwitchToolRef, (d, lang) => failoverSwitchView(d, lang)),
  row(fpgaStatusToolRef, (d, lang, tz) => fpgaStatusView(d, lang, tz)),
  row(fpgaSwitchPathToolRef, (d, lang) => fpgaSwitchPathView(d, lang)),
]);

/** A tool's result as people see it: its view, or the error said plainly. */
export function toolResultView(result: ToolResult, lang: Lang, timeZone: string): OutgoingMessage {
  if (result.status === 'error' || result.data === undefined) return toolProblemView(result, lang);
  const entry = TABLE.get(result.tool);
  return withAuditNote(result, entry ? entry.render(result, lang, timeZone) : { lang, text: result.summary }, lang);
}
