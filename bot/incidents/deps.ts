import type { App } from '../../tools/services.js';
import type { Platform } from '../messages.js';
import type { ChatPlatform } from '../platforms/platform.js';

/** The chat platforms that are connected, by name. */
export interface PlatformLookup {
  get(name: Platform): ChatPlatform | undefined;
  values(): IterableIterator<ChatPlatform>;
}

/**
 * What the incident flows use: the app's services and a lookup of the connected platforms, never
 * the whole bot (which routes chat events to them). The bot satisfies it, and so does a test.
 */
export interface IncidentDeps {
  app: App;
  platforms: PlatformLookup;
}
