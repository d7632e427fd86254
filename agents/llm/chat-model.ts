import { AIMessage, type BaseMessage } from '@langchain/core/messages';
import { ChatOpenAI } from '@langchain/openai';
import { errorMessage } from '../../core/errors.js';
import { redactText } from '../../core/redact.js';
import type { OpenAIToolSpec } from './offer.js';
import type { LlmSettings } from './settings.js';

/**
 * The chat model behind the agent: LangChain's ChatOpenAI over any OpenAI-compatible endpoint
 * (`configuration.baseURL`), tools bound as OpenAI function definitions. Every failure of the
 * endpoint (refused connection, 5xx, timeout, a reply that cannot be read) comes out as one
 * LlmEndpointError with a short reason the asker may see: no key, no URL credentials.
 */
export class LlmEndpointError extends Error {
  constructor(
    /** Short, safe to show, in both languages: "the model endpoint did not answer within 30 s". */
    readonly reasons: { zh: string; en: string },
    options?: { cause?: unknown },
  ) {
    super(reasons.en, options);
    this.name = 'LlmEndpointError';
  }

  get reason(): string {
    return this.reasons.en;
  }
}

export interface ChatModelPort {
  /** One model call with the tools bound; resolves to the model's message. */
  invoke(messages: BaseMessage[]): Promise<AIMessage>;
}

/** A local server may take no key, but the client insists on one. */
const NO_KEY = 'no-key';

type Reason = { zh: string; en: string };
const UNREADABLE: Reason = { zh: '模型接口的回复无法解析', en: 'the model endpoint sent a reply that could not be read' };
const EMPTY: Reason = { zh: '模型接口回复为空', en: 'the model endpoint sent an empty reply' };

function describeFailure(err: unknown, settings: LlmSettings): Reason {
  const e = err as { name?: unknown; status?: unknown };
  const seconds = Math.round(settings.timeoutMs / 1000);
  if (e?.name === 'TimeoutError' || /timed? ?out/i.test(errorMessage(err))) return { zh: `模型接口 ${seconds} 秒内没有回应`, en: `the model endpoint did not answer within ${seconds} s` };
  if (typeof e?.status === 'number') {
    if (e.status === 401 || e.status === 403) return { zh: `模型接口拒绝了凭据（HTTP ${e.status}）`, en: `the model endpoint refused the credentials (HTTP ${e.status})` };
    if (e.status === 404) return { zh: `模型接口没有模型 ${settings.model}（HTTP 404）`, en: `the model endpoint does not know model ${settings.model} (HTTP 404)` };
    if (e.status === 429) return { zh: '模型接口限流（HTTP 429）', en: 'the model endpoint is rate-limiting (HTTP 429)' };
    return { zh: `模型接口出错（HTTP ${e.status}）`, en: `the model endpoint failed (HTTP ${e.status})` };
  }
  if (e?.name === 'APIConnectionError' || /connection|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|fetch failed/i.test(errorMessage(err))) return { zh: '连不上模型接口', en: 'the model endpoint could not be reached' };
  return UNREADABLE;
}

/** The message for logs: the endpoint's own words, with the key and any secret taken out. */
export function scrubError(err: unknown, settings: Pick<LlmSettings, 'apiKey'>): string {
  let text = errorMessage(err);
  if (settings.apiKey) text = text.split(settings.apiKey).join('[redacted]');
  return redactText(text).slice(0, 500);
}

export function createChatModel(settings: LlmSettings, tools: OpenAIToolSpec[]): ChatModelPort {
  const model = new ChatOpenAI({
    model: settings.model,
    apiKey: settings.apiKey ?? NO_KEY,
    timeout: settings.timeoutMs,
    maxRetries: settings.maxRetries,
    // Chat Completions is what every OpenAI-compatible server speaks.
    useResponsesApi: false,
    streaming: false,
    ...(settings.baseURL ? { configuration: { baseURL: settings.baseURL } } : {}),
  });
  const bound = tools.length ? model.bindTools(tools) : model;
  return {
    async invoke(messages) {
      let reply: unknown;
      try {
        reply = await bound.invoke(messages);
      } catch (err) {
        throw new LlmEndpointError(describeFailure(err, settings), { cause: new Error(scrubError(err, settings)) });
      }
      if (!AIMessage.isInstance(reply)) throw new LlmEndpointError(UNREADABLE);
      const content = reply.content;
      const hasText = typeof content === 'string' ? content.trim().length > 0 : Array.isArray(content) && content.length > 0;
      if (!hasText && !(reply.tool_calls?.length ?? 0) && !(reply.invalid_tool_calls?.length ?? 0)) throw new LlmEndpointError(EMPTY);
      return reply;
    },
  };
}
