/**
 * The beat plan of a space (SPEC M2): one drift-free beat at max(display, participant) rate;
 * beat 0 and every beat where the participant-rate count steps are participant beats. Shared by
 * the host and the in-process simulator, so both tick a space exactly alike.
 */

/** The period of a space's beats, ms. */
export function beatPeriodMs(displayHz: number, participantHz: number): number {
  return 1000 / Math.max(displayHz, participantHz);
}

/** Whether beat `i` (0, 1, 2, …) is a participant beat. */
export function isParticipantBeat(i: number, displayHz: number, participantHz: number): boolean {
  const rate = Math.max(displayHz, participantHz);
  return i === 0 || Math.floor((i * participantHz) / rate) > Math.floor(((i - 1) * participantHz) / rate);
}
