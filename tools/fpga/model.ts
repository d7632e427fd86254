/**
 * The FPGA market-data decoder's status as Warroom reads it: one consistent snapshot of the
 * status block the card's control plane keeps (layout: native/README.md), read by the Node-API
 * addon (native/) or, where it did not build, by the TypeScript reader of the same layout.
 * Plain data: the tool (tools/fpga/fpga-status.ts) diagnoses it, views render it.
 */

/** TCP session to the exchange's market-data gateway (MDGW), through the card's TOE. */
export type MdgwTcpState = 'down' | 'connecting' | 'established';
/** Login to the MDGW over that session; `rejected` carries the gateway's reject code. */
export type MdgwLoginState = 'logged-out' | 'logging-in' | 'logged-in' | 'rejected';
export type MulticastState = 'down' | 'up';
/** Where consumers get decoded market data: the card, or the software decoder (fallback). */
export type ActivePath = 'fpga' | 'software';

export interface FpgaChannel {
  /** The exchange's ChannelNo, e.g. 2011. */
  channel: number;
  packetsIn: number;
  packetsOut: number;
  messagesDecoded: number;
  checksumErrors: number;
  /** OrigTime of the last decoded message (the exchange's time), or null before the first. */
  lastOrigTime: Date | null;
  /** Decode latency on the card, nanoseconds. */
  latencyP50Ns: number;
  latencyP99Ns: number;
}

export interface FpgaCard {
  /** Card index on the host (0, 1, …). */
  card: number;
  mdgw: { tcp: MdgwTcpState; login: MdgwLoginState; rejectCode: number | null; since: Date | null };
  multicast: MulticastState;
  /** TOE sessions in use, and the card's limit (128). */
  toeSessions: number;
  toeLimit: number;
  activePath: ActivePath;
  firmware: string;
  bitstream: string;
  /** When the control plane last wrote this card's record. */
  updatedAt: Date;
  channels: FpgaChannel[];
}

export interface FpgaSnapshot {
  /** Which reader produced it: the C++ addon, or the TypeScript fallback (say so in every answer). */
  reader: 'addon' | 'typescript';
  /** Layout version of the block. */
  version: number;
  /** When this snapshot was taken (the reader's clock). */
  takenAt: Date;
  cards: FpgaCard[];
  /** Read retries because the writer was mid-update (sequence odd or changed, or a checksum mismatch). */
  retries: number;
}
