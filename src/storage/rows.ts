/**
 * Rows → records, for the SQL adapters (SQLite and PostgreSQL): both name their columns alike
 * (snake_case, the same per table), so one mapper a table serves both. Every value goes through
 * Number/String because the drivers differ in what they hand back (PostgreSQL's BIGINT arrives
 * as a string, SQLite's INTEGER as a number).
 */
import type { ConsentRecord, FeedSettingKind, FeedSettingRecord, PrivacyReleaseRecord, PulsePoint, SpaceEventRecord, StoryRecord, WebhookDeliveryRecord, WebhookRecord } from './port.ts';

/** A row as either driver returns it. */
export type Row = Record<string, unknown>;

export function eventFrom(r: Row): SpaceEventRecord {
  return {
    spaceId: String(r.space_id),
    n: Number(r.n),
    at: Number(r.at),
    kind: String(r.kind),
    participantId: r.participant_id === null ? null : String(r.participant_id),
    body: r.body === null ? null : String(r.body),
  };
}

export function consentFrom(r: Row): ConsentRecord {
  return { participantId: String(r.participant_id), at: Number(r.at), hash: String(r.hash), purposes: JSON.parse(String(r.purposes)) as string[] };
}

export function privacyReleaseFrom(r: Row): PrivacyReleaseRecord {
  return { spaceId: String(r.space_id), n: Number(r.n), at: Number(r.at), what: String(r.what), params: String(r.params), rhoMicro: Number(r.rho_micro), body: String(r.body) };
}

export function pulsePointFrom(r: Row): PulsePoint {
  return {
    spaceId: String(r.space_id),
    at: Number(r.at),
    count: Number(r.count),
    valence: Number(r.v),
    arousal: Number(r.a),
    spreadValence: Number(r.sv),
    spreadArousal: Number(r.sa),
    quadrants: [Number(r.q0), Number(r.q1), Number(r.q2), Number(r.q3)] as const,
  };
}

export function storyFrom(r: Row): StoryRecord {
  return {
    id: String(r.id),
    spaceId: String(r.space_id),
    participantId: String(r.participant_id),
    text: String(r.text),
    name: r.name === null ? null : String(r.name),
    valence: Number(r.v),
    arousal: Number(r.a),
    confidence: Number(r.c),
    flags: JSON.parse(String(r.flags)) as string[],
    status: String(r.status) as StoryRecord['status'],
    reason: r.reason === null ? null : String(r.reason),
    createdAt: Number(r.created_at),
    decidedAt: r.decided_at === null ? null : Number(r.decided_at),
  };
}

export function feedSettingFrom(r: Row): FeedSettingRecord {
  return { spaceId: String(r.space_id), kind: String(r.kind) as FeedSettingKind, values: JSON.parse(String(r.vals)) as string[], at: Number(r.at) };
}

export function webhookFrom(r: Row): WebhookRecord {
  return { id: String(r.id), spaceId: String(r.space_id), url: String(r.url), events: JSON.parse(String(r.events)) as string[], createdAt: Number(r.created_at) };
}

export function webhookDeliveryFrom(r: Row): WebhookDeliveryRecord {
  return {
    spaceId: String(r.space_id),
    delivery: String(r.delivery),
    webhook: String(r.webhook),
    event: String(r.event),
    type: String(r.type),
    attempt: Number(r.attempt),
    at: Number(r.at),
    status: r.status === null ? null : Number(r.status),
    outcome: String(r.outcome) as WebhookDeliveryRecord['outcome'],
    ...(r.error === null ? {} : { error: String(r.error) }),
    ...(r.next_attempt_at === null ? {} : { nextAttemptAt: Number(r.next_attempt_at) }),
  };
}
