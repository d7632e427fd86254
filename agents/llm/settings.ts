import type { Config } from '../../core/config.js';

/** What the LLM agent needs from the configuration. The key stays in here: never logged, never shown. */
export interface LlmSettings {
  model: string;
  /** Absent: a local server that takes no key (the client still needs a placeholder). */
  apiKey: string | undefined;
  baseURL: string | undefined;
  maxSteps: number;
  tokenBudget: number;
  timeoutMs: number;
  toolOutputChars: number;
  maxRetries: number;
}

/** The LLM agent's settings when a chat model is configured (WARROOM_LLM_MODEL), else undefined. */
export function llmSettingsFromConfig(config: Config): LlmSettings | undefined {
  if (!config.WARROOM_LLM_MODEL) return undefined;
  return {
    model: config.WARROOM_LLM_MODEL,
    apiKey: config.OPENAI_API_KEY,
    baseURL: config.OPENAI_BASE_URL,
    maxSteps: config.WARROOM_LLM_MAX_STEPS,
    tokenBudget: config.WARROOM_LLM_TOKEN_BUDGET,
    timeoutMs: config.WARROOM_LLM_TIMEOUT_SECONDS * 1000,
    toolOutputChars: config.WARROOM_LLM_TOOL_OUTPUT_CHARS,
    maxRetries: config.WARROOM_LLM_MAX_RETRIES,
  };
}
