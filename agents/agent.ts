export type { AgentAnswer, AgentToolCall, Citation, Question } from './types.js';
/** The offline planner lives in agents/offline/; agents/ask.ts and the bot call it from here. */
export { answerOffline, intentName } from './offline/planner.js';
