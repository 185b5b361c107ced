/**
 * The shared memory between the training thread and one gradient worker (see
 * `parallel-gradients.ts`): one SharedArrayBuffer holding a few control words, the step's
 * scalars, the trained weights, the worker's gradients, its rows of the batch and room for an
 * error message. Both sides build the same views from the same sizes.
 *
 * Protocol, per step: the training thread writes weights, rows, β and the random state, sets
 * `command`, increments `seq` and notifies; the worker computes, writes its gradients and loss
 * (or an error), stores `done = seq` and notifies. Only one side writes a region at a time.
 */
export const Slot = {
  /** Incremented by the training thread for each command. */
  Seq: 0,
  /** The last `seq` the worker finished. */
  Done: 1,
  /** The command of `seq`: `Command`. */
  Command: 2,
  /** 0: the step succeeded; 1: it threw (message in `error`). */
  Status: 3,
  /** The whole batch's rows B, and this worker's rows start … end − 1 of it. */
  Rows: 4,
  Start: 5,
  End: 6,
  /** The random stream's state (uint32 bits) and whether it holds a spare normal. */
  RandomState: 7,
  HasSpare: 8,
  /** Bytes of the error message. */
  ErrorLength: 9,
} as const;
const CONTROL_WORDS = 12;

export const Command = { Step: 1, Exit: 2 } as const;

export const Scalar = {
  Beta: 0,
  Spare: 1,
  /** The worker's share of the loss: −(1/B)·Σ over its rows. */
  Loss: 2,
} as const;
const SCALARS = 4;
const ERROR_BYTES = 4096;

export interface ChannelSizes {
  /** Elements of all trained variables together. */
  parameters: number;
  /** Most rows the worker gets, times the row width. */
  rowValues: number;
}

export interface StepChannel {
  readonly buffer: SharedArrayBuffer;
  readonly control: Int32Array;
  readonly scalars: Float64Array;
  readonly weights: Float32Array;
  readonly gradients: Float32Array;
  readonly rows: Float32Array;
  readonly error: Uint8Array;
}

/** The views on `buffer` (a new buffer of the right size when absent). */
export function stepChannel(sizes: ChannelSizes, buffer?: SharedArrayBuffer): StepChannel {
  const controlBytes = CONTROL_WORDS * 4;
  const scalarBytes = SCALARS * 8;
  const floats = 2 * sizes.parameters + sizes.rowValues;
  const total = controlBytes + scalarBytes + floats * 4 + ERROR_BYTES;
  const buf = buffer ?? new SharedArrayBuffer(total);
  if (buf.byteLength !== total) throw new Error(`stepChannel: the buffer has ${buf.byteLength} bytes; the sizes need ${total}`);
  let at = 0;
  const control = new Int32Array(buf, at, CONTROL_WORDS);
  at += controlBytes;
  const scalars = new Float64Array(buf, at, SCALARS);
  at += scalarBytes;
  const weights = new Float32Array(buf, at, sizes.parameters);
  at += sizes.parameters * 4;
  const gradients = new Float32Array(buf, at, sizes.parameters);
  at += sizes.parameters * 4;
  const rows = new Float32Array(buf, at, sizes.rowValues);
  at += sizes.rowValues * 4;
  const error = new Uint8Array(buf, at, ERROR_BYTES);
  return { buffer: buf, control, scalars, weights, gradients, rows, error };
}

/** Writes `message` (UTF-8, truncated to the error area) and its length. */
export function writeError(channel: StepChannel, message: string): void {
  const bytes = new TextEncoder().encode(message).subarray(0, channel.error.length);
  channel.error.set(bytes);
  channel.control[Slot.ErrorLength] = bytes.length;
}

export function readError(channel: StepChannel): string {
  return new TextDecoder().decode(channel.error.slice(0, channel.control[Slot.ErrorLength]));
}
