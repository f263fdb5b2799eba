/**
 * What a new occurrence does when runs it started earlier are still active. A pure decision:
 * the caller knows the active runs and the buffered occurrences and carries it out.
 */
export const OVERLAP_POLICIES = ['skip', 'buffer-one', 'buffer-all', 'cancel-other', 'allow'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];
export const DEFAULT_OVERLAP: OverlapPolicy = 'skip';
/** buffer-all keeps at most this many waiting occurrences per trigger; later ones are skipped. */
export const BUFFER_ALL_LIMIT = 1_000;

export interface OverlapState {
  /** Runs of this trigger that have not ended. */
  activeRunIds: readonly string[];
  /** Occurrences waiting for the active run to end. */
  buffered: number;
}

export type OverlapDecision =
  | { kind: 'start'; cancel: string[] }
  | { kind: 'buffer' }
  | { kind: 'skip'; reason: string };

export function decideOverlap(policy: OverlapPolicy, state: OverlapState): OverlapDecision {
  const active = state.activeRunIds.length;
  if (active === 0 && state.buffered === 0) return { kind: 'start', cancel: [] };
  switch (policy) {
    case 'allow':
      return { kind: 'start', cancel: [] };
    case 'cancel-other':
      return { kind: 'start', cancel: [...state.activeRunIds] };
    case 'skip':
      return active === 0 ? { kind: 'start', cancel: [] } : { kind: 'skip', reason: `overlap skip: ${runs(active)} still active` };
    case 'buffer-one':
      return state.buffered === 0 ? { kind: 'buffer' } : { kind: 'skip', reason: `overlap buffer-one: ${runs(active)} active and one occurrence already buffered` };
    case 'buffer-all':
      return state.buffered < BUFFER_ALL_LIMIT ? { kind: 'buffer' } : { kind: 'skip', reason: `overlap buffer-all: ${BUFFER_ALL_LIMIT} occurrences already buffered` };
  }
}

/** Whether a buffered occurrence may start now: once no run of the trigger is active. */
export function mayReleaseBuffered(state: OverlapState): boolean {
  return state.activeRunIds.length === 0 && state.buffered > 0;
}

function runs(n: number): string {
  return n === 1 ? '1 run' : `${n} runs`;
}
