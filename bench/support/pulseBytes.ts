/**
 * The byte size of a pulse, shared by the benches that put a plain-`ws` baseline beside attune
 * (bench:cadence, bench:scale, bench:memory): the load driver's displays note the size of the
 * pulses attune sent ({@link meanPulseBytes} over the client processes' results), and the
 * baseline (bench/support/cadenceWsServer.ts) pads its own pulse to that size ({@link padPulse}),
 * so that the same bytes cross the loopback for both and the comparison is of the servers' work,
 * not of the message size.
 */

/** Characters of the padding field around its value: `,"pad":""`. */
const PAD_FIELD = ',"pad":"'.length + '"'.length;

/**
 * A JSON object's text (with at least one field, as every pulse) with a `pad` field appended so
 * that it is exactly `bytes` long; the text unchanged when the field does not fit (it is already
 * that long, or nearly) or the text is no such object. Pulses are ASCII, so characters are bytes.
 */
export function padPulse(json: string, bytes: number): string {
  const pad = bytes - json.length - PAD_FIELD;
  if (pad < 0 || !json.endsWith('}') || json.length <= 2) return json;
  return `${json.slice(0, -1)},"pad":"${'x'.repeat(pad)}"}`;
}

/**
 * The mean pulse size over the client processes that saw pulses (bench/support/cadenceClients.ts
 * `WorkerResult.pulseBytes`, each its displays' mean); 0 when none did (no displays).
 */
export function meanPulseBytes(results: readonly { readonly pulseBytes: number }[]): number {
  const seen = results.filter((r) => r.pulseBytes > 0);
  return seen.length ? seen.reduce((a, r) => a + r.pulseBytes, 0) / seen.length : 0;
}
