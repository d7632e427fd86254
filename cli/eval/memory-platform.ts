import type { OutgoingMessage } from '../../bot/messages.js';
import type { ChatPlatform, CreateRoomSpec, MessageRef, RoomRef } from '../../bot/platforms/platform.js';

/** One message the evaluation's chat platform received from the bot. */
export interface PostedMessage {
  roomId: string;
  id: string;
  message: OutgoingMessage;
}

/**
 * A chat platform in memory for the evaluation harness: incident rooms are made (so a question can
 * be asked in a real incident room), and whatever the bot posts is kept, never sent anywhere.
 * It is the `local` platform by name: person ids are platform ids, as in the web chat.
 */
export interface MemoryPlatform extends ChatPlatform {
  readonly posted: PostedMessage[];
  readonly rooms: Map<string, { name: string; topic: string; members: Set<string> }>;
}

export function createMemoryPlatform(): MemoryPlatform {
  const posted: PostedMessage[] = [];
  const rooms = new Map<string, { name: string; topic: string; members: Set<string> }>();
  let seq = 0;
  const post = (roomId: string, message: OutgoingMessage): MessageRef => {
    const id = String(++seq);
    posted.push({ roomId, id, message });
    return { platform: 'local', roomId, id };
  };
  return {
    name: 'local',
    posted,
    rooms,
    userIdOf(person) {
      return person.id;
    },
    async createRoom(spec: CreateRoomSpec): Promise<RoomRef> {
      const base = spec.name.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-|-$/g, '') || 'incident';
      let id = base;
      for (let n = 2; rooms.has(id); n++) id = `${base}-${n}`;
      rooms.set(id, { name: spec.name, topic: spec.topic, members: new Set(spec.memberIds) });
      return { platform: 'local', id, name: spec.name };
    },
    async invite(room, memberIds) {
      const r = rooms.get(room.id);
      for (const m of memberIds) r?.members.add(m);
    },
    async post(room, message) {
      return post(room.id, message);
    },
    async update(ref, message) {
      const m = posted.find((p) => p.roomId === ref.roomId && p.id === ref.id);
      if (m) m.message = message;
    },
    async pin() {
      return true;
    },
    async setTopic(room, topic) {
      const r = rooms.get(room.id);
      if (r) r.topic = topic;
      return true;
    },
    async sendDirect(userId, message) {
      return post(`dm:${userId}`, message);
    },
    statusRoom() {
      return { platform: 'local', id: 'status', name: 'status' };
    },
  };
}
