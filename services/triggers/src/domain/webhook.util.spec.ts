import { bodyDigest, signWebhook, verifyWebhook, type WebhookRequest } from './webhook.util';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const NOW_SEC = NOW / 1000;
const body = Buffer.from('{"id":"evt_1","ref":"refs/heads/main"}');
const req = (headers: Record<string, string>, b: Buffer = body): WebhookRequest => ({ headers, body: b });

describe('verifyWebhook: github', () => {
  const secret = 'gh-secret';
  it("matches GitHub's documented example", () => {
    const verdict = verifyWebhook(
      { preset: 'github', secret: "It's a Secret to Everybody" },
      req({ 'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17', 'x-github-delivery': 'd-1' }, Buffer.from('Hello, World!')),
      NOW,
    );
    expect(verdict).toEqual({ ok: true, deliveryId: 'd-1' });
  });
  it('accepts a signed delivery and takes its id from X-GitHub-Delivery', () => {
    expect(verifyWebhook({ preset: 'github', secret }, req(signWebhook('github', secret, body, { id: 'abc' })), NOW)).toEqual({ ok: true, deliveryId: 'abc' });
  });
  it('falls back to the body digest without a delivery header', () => {
    expect(verifyWebhook({ preset: 'github', secret }, req(signWebhook('github', secret, body)), NOW)).toEqual({ ok: true, deliveryId: bodyDigest(body) });
  });
  it.each([
    ['a wrong secret', signWebhook('github', 'other', body), 'bad-signature'],
    ['no header', {}, 'missing-signature'],
    ['another scheme', { 'x-hub-signature-256': 'sha1=abc' }, 'bad-signature'],
    ['not hex', { 'x-hub-signature-256': 'sha256=zz' }, 'bad-signature'],
    ['a truncated signature', { 'x-hub-signature-256': signWebhook('github', secret, body)['x-hub-signature-256'].slice(0, 40) }, 'bad-signature'],
  ])('refuses %s', (_what, headers, reason) => {
    expect(verifyWebhook({ preset: 'github', secret }, req(headers), NOW)).toMatchObject({ ok: false, reason });
  });
  it('refuses a tampered body', () => {
    const headers = signWebhook('github', secret, body);
    expect(verifyWebhook({ preset: 'github', secret }, req(headers, Buffer.from('{"id":"evt_2"}')), NOW)).toMatchObject({ ok: false, reason: 'bad-signature' });
  });
  it('refuses a body over the limit before any hashing', () => {
    expect(verifyWebhook({ preset: 'github', secret, maxBodyBytes: 10 }, req(signWebhook('github', secret, body)), NOW)).toMatchObject({ ok: false, reason: 'body-too-large' });
  });
  it('refuses everything when the secret is empty', () => {
    expect(verifyWebhook({ preset: 'github', secret: '' }, req(signWebhook('github', '', body)), NOW)).toMatchObject({ ok: false, reason: 'no-secret' });
  });
});

describe('verifyWebhook: stripe', () => {
  const secret = 'whsec_stripe';
  it('accepts within the tolerance and takes the event id from the body', () => {
    const headers = signWebhook('stripe', secret, body, { timestampSec: NOW_SEC - 60 });
    expect(verifyWebhook({ preset: 'stripe', secret }, req(headers), NOW)).toEqual({ ok: true, deliveryId: 'evt_1', timestampMs: NOW - 60_000 });
  });
  it('accepts when any of several v1 signatures matches', () => {
    const good = signWebhook('stripe', secret, body, { timestampSec: NOW_SEC })['stripe-signature'];
    const header = `t=${NOW_SEC},v1=${'0'.repeat(64)},${good.split(',')[1]}`;
    expect(verifyWebhook({ preset: 'stripe', secret }, req({ 'stripe-signature': header }), NOW).ok).toBe(true);
  });
  it('refuses a stale timestamp (replay) and one from the future', () => {
    const old = signWebhook('stripe', secret, body, { timestampSec: NOW_SEC - 301 });
    expect(verifyWebhook({ preset: 'stripe', secret }, req(old), NOW)).toMatchObject({ ok: false, reason: 'stale-timestamp' });
    const future = signWebhook('stripe', secret, body, { timestampSec: NOW_SEC + 600 });
    expect(verifyWebhook({ preset: 'stripe', secret }, req(future), NOW)).toMatchObject({ ok: false, reason: 'stale-timestamp' });
    expect(verifyWebhook({ preset: 'stripe', secret, toleranceMs: 3_600_000 }, req(old), NOW).ok).toBe(true);
  });
  it('refuses a re-signed timestamp it was not signed with', () => {
    const headers = signWebhook('stripe', secret, body, { timestampSec: NOW_SEC - 1000 });
    const forged = headers['stripe-signature'].replace(`t=${NOW_SEC - 1000}`, `t=${NOW_SEC}`);
    expect(verifyWebhook({ preset: 'stripe', secret }, req({ 'stripe-signature': forged }), NOW)).toMatchObject({ ok: false, reason: 'bad-signature' });
  });
  it('refuses a header without t or v1', () => {
    expect(verifyWebhook({ preset: 'stripe', secret }, req({ 'stripe-signature': 'v1=abc' }), NOW)).toMatchObject({ reason: 'missing-timestamp' });
    expect(verifyWebhook({ preset: 'stripe', secret }, req({ 'stripe-signature': `t=${NOW_SEC}` }), NOW)).toMatchObject({ reason: 'missing-signature' });
  });
});

describe('verifyWebhook: slack', () => {
  it("matches Slack's documented example", () => {
    const slackBody = Buffer.from(
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
    );
    const headers = { 'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503', 'x-slack-request-timestamp': '1531420618' };
    expect(verifyWebhook({ preset: 'slack', secret: '8f742231b10e8888abcd99yyyzzz85a5' }, req(headers, slackBody), 1531420618_000)).toMatchObject({ ok: true });
  });
  it('refuses a stale request and a missing timestamp', () => {
    const headers = signWebhook('slack', 's', body, { timestampSec: NOW_SEC - 600 });
    expect(verifyWebhook({ preset: 'slack', secret: 's' }, req(headers), NOW)).toMatchObject({ ok: false, reason: 'stale-timestamp' });
    expect(verifyWebhook({ preset: 'slack', secret: 's' }, req({ 'x-slack-signature': headers['x-slack-signature'] }), NOW)).toMatchObject({ ok: false, reason: 'missing-timestamp' });
  });
});

describe('verifyWebhook: hmac-sha256', () => {
  it('Standard Webhooks: signs id.timestamp.body, whsec_ secrets, v1, prefixes, Webhook-Id dedupes', () => {
    const secret = `whsec_${Buffer.from('key-bytes').toString('base64')}`;
    const headers = signWebhook('hmac-sha256', secret, body, { id: 'msg_1', timestampSec: NOW_SEC });
    const verifier = { preset: 'hmac-sha256' as const, secret, timestampHeader: 'webhook-timestamp' };
    expect(verifyWebhook(verifier, req(headers), NOW)).toEqual({ ok: true, deliveryId: 'msg_1', timestampMs: NOW });
    expect(verifyWebhook(verifier, req({ ...headers, 'webhook-id': 'msg_2' }), NOW)).toMatchObject({ ok: false, reason: 'bad-signature' });
    expect(verifyWebhook(verifier, req(headers), NOW + 10 * 60_000)).toMatchObject({ ok: false, reason: 'stale-timestamp' });
  });
  it('a plain body HMAC in a configured header, hex encoded', () => {
    const sig = signWebhook('hmac-sha256', 'k', body, { encoding: 'hex' })['webhook-signature'];
    const verifier = { preset: 'hmac-sha256' as const, secret: 'k', header: 'X-Signature', encoding: 'hex' as const };
    expect(verifyWebhook(verifier, req({ 'x-signature': `sha256=${sig}` }), NOW)).toEqual({ ok: true, deliveryId: bodyDigest(body) });
    expect(verifyWebhook(verifier, req({ 'x-signature': sig.replace(/^./, sig[0] === 'a' ? 'b' : 'a') }), NOW)).toMatchObject({ ok: false, reason: 'bad-signature' });
    expect(verifyWebhook(verifier, req({}), NOW)).toMatchObject({ ok: false, reason: 'missing-signature' });
  });
});
