import type { ComfortState } from '../api/types';
import type { Tone } from './ui';

/** Words for comfort states: colour is never the only signal. */
export const COMFORT_TEXT: Record<ComfortState, string> = {
  in_band: 'In band',
  too_warm: 'Too warm',
  too_cold: 'Too cold',
  unknown: 'Unknown',
};

export const COMFORT_TONE: Record<ComfortState, Tone> = {
  in_band: 'good',
  too_warm: 'bad',
  too_cold: 'cold',
  unknown: 'neutral',
};
