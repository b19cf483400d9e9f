// A business system has a member approve a payout, in the browser. The administrator
// registers the withdrawals system with `fundpass clients add` and its public key; the
// system gets an access token with a client assertion it signs itself, and asks for a
// retirement withdrawal. The member finds it on the home page under "待您确认的支付",
// opens /confirm/{id}, types a wrong transaction password (told so, with the tries
// left), then the right one, and confirms. The system reads the authorisation back
// with a receipt it checks against fundpass's published key, captures it once (a
// second capture is refused) — and a second payout the member declines reads
// "declined". No page shows the member's full ID number or phone.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { request } from 'playwright-core';

import {
  BASE, TEST_TIMEOUT, ZH, assertHeading, assertPasswordsEmpty, assertTranslated, expectStatus,
  fieldErrors, importMembers, internalApi, internalToken, launch, loginWithDocument, maskPhone,
  maskResidentId, navigating, openPage, pathOf, payeeHash, register, registerClient,
  residentId, shooter, summaryErrors, verifyJws,
} from './helpers.js';

// A member of this file only, added the way the fund's core system adds them (every
// demo member is some other file's, and a recovery's hold would stop payouts).
const memberId = residentId('33010219610315023');
const member = {
  account: '200000000021', name: '周建华', idType: 'resident_id', id: memberId,
  phone: '13700000021', maskedId: maskResidentId(memberId), maskedPhone: maskPhone('13700000021'),
};
const LOGIN_PASSWORD = 'Willow2026brook';
const TRANSACTION_PASSWORD = '864209';
const WRONG_TRANSACTION_PASSWORD = '864290';
/** Wrong transaction passwords before the lock (TransactionLockPolicy::lock_after). */
const TRANSACTION_TRIES = 5;

const CLIENT_ID = 'withdrawals';
const PAYEE = { name: member.name, account: '6222********1234' };
const PAYMENT = {
  account_no: member.account,
  amount_fen: 1234550,
  currency: 'CNY',
  payee: PAYEE,
  purpose: 'withdrawal.retirement',
};

/** Texts of messages/zh-CN.toml this file looks for. */
const ZH_CONFIRM = {
  title: '确认支付',
  pendingTitle: '待您确认的支付',
  amount: '¥12,345.50',
  purpose: '退休提取住房公积金',
  open: '查看并确认',
  confirm: '确认支付',
  decline: '拒绝',
  confirmed: '您已确认这笔支付。',
  declined: '您已拒绝这笔支付。',
  // confirm.wrong_password = "交易密码错误，还可尝试 {remaining} 次，之后交易密码将锁定至当日 24 时。"
  wrongPasswordPattern: /^交易密码错误，还可尝试 (\d+) 次，之后交易密码将锁定至当日 24 时。$/,
};

let browser;
let system;
let client;
before(async () => {
  browser = await launch();
  system = await request.newContext({ baseURL: BASE });
  await importMembers([member]);
  client = await registerClient({ id: CLIENT_ID, scopes: 'payments:authorize,holds:read' });
});
after(async () => {
  await system?.dispose();
  await browser?.close();
});

/** Asserts no full document or phone number of the member is anywhere in the page's HTML. */
async function assertMaskedOnly(page) {
  const html = await page.content();
  for (const secret of [member.id, member.phone, member.id.slice(6, 14)]) {
    assert.ok(!html.includes(secret), `${page.url()} contains "${secret}" of the member`);
  }
}

/** The business system asks for a payout; returns the pending authorisation. */
async function createPayout(token, businessRef, key = randomUUID()) {
  const created = expectStatus(
    await internalApi(system, 'POST', '/internal/v1/authorizations', {
      token, headers: { 'Idempotency-Key': key }, data: { ...PAYMENT, business_ref: businessRef },
    }),
    201, `create ${businessRef}`,
  );
  assert.match(created.id, /^pa_/, `authorisation: ${JSON.stringify(created)}`);
  assert.equal(created.state, 'pending');
  assert.equal(created.mode, 'confirm');
  assert.equal(created.amount_fen, PAYMENT.amount_fen);
  assert.deepEqual(created.payee, PAYEE);
  assert.equal(created.business_ref, businessRef);
  assert.equal(created.confirm_url, `${BASE}/confirm/${created.id}`);
  assert.equal(created.receipt, undefined, 'no receipt before the member confirms');
  return created;
}

/** The business system reads an authorisation back. */
async function readPayout(token, id) {
  return expectStatus(await internalApi(system, 'GET', `/internal/v1/authorizations/${id}`, { token }), 200, `GET ${id}`);
}

/** The rows of the home page's table of payments waiting for the member. */
async function pendingRows(page) {
  const section = page.locator('section[aria-labelledby=pending-title]');
  if ((await section.count()) === 0) return [];
  assert.equal((await section.locator('h2').innerText()).trim(), ZH_CONFIRM.pendingTitle);
  return section.locator('tbody tr').evaluateAll((rows) =>
    rows.map((row) => {
      const [amount, payee, purpose, until] = [...row.cells].map((c) => c.textContent.trim());
      return { amount, payee, purpose, until, href: row.querySelector('a')?.getAttribute('href') };
    }),
  );
}

/** From the home page, opens the one payment waiting, which must be `id`. */
async function openFromHome(page, id) {
  await page.goto('/home');
  await assertHeading(page, ZH.homeTitle);
  const rows = await pendingRows(page);
  assert.equal(rows.length, 1, `one payment waiting on the home page: ${JSON.stringify(rows)}`);
  const [row] = rows;
  assert.equal(row.amount, ZH_CONFIRM.amount);
  assert.equal(row.payee.replace(/\s+/g, ' '), `${PAYEE.name} ${PAYEE.account}`);
  assert.equal(row.purpose, ZH_CONFIRM.purpose);
  assert.equal(row.href, `/confirm/${id}`);
  await assertMaskedOnly(page);
  return async () => {
    await navigating(page, () => page.locator('section[aria-labelledby=pending-title]')
      .getByRole('link', { name: ZH_CONFIRM.open, exact: true }).click());
    assert.equal(pathOf(page), `/confirm/${id}`);
  };
}

/** The payment as the confirmation page lists it: `{label: value}`. */
async function paymentFacts(page) {
  await assertHeading(page, ZH_CONFIRM.title);
  return page.locator('dl.payment').evaluate((dl) => {
    const facts = {};
    for (const dt of dl.querySelectorAll('dt')) facts[dt.textContent.trim()] = dt.nextElementSibling?.textContent.trim();
    return facts;
  });
}

/** The notice of a page whose payment no longer waits. */
async function outcome(page) {
  return (await page.locator('main .notice[role=status]').innerText()).trim();
}

test('a member confirms a withdrawal a business system asked for, and declines another', { timeout: TEST_TIMEOUT }, async () => {
  const { context, page, serverErrors } = await openPage(browser);
  const shot = shooter('payout-confirm');
  try {
    await register(page, member, { loginPassword: LOGIN_PASSWORD, transactionPassword: TRANSACTION_PASSWORD });
    await loginWithDocument(page, member, LOGIN_PASSWORD);
    assert.equal(pathOf(page), '/home', `the member did not log in: ${await page.locator('main').innerText()}`);
    assert.deepEqual(await pendingRows(page), [], 'nothing waits before the business system asks');

    // The business system: an access token with its signed assertion, then the payout.
    const issued = await internalToken(system, client);
    assert.equal(issued.token_type, 'Bearer');
    assert.ok(issued.scope.split(' ').includes('payments:authorize'), `scope: ${issued.scope}`);
    assert.ok(issued.expires_in > 0 && issued.expires_in <= 300, `expires_in: ${issued.expires_in}`);
    const token = issued.access_token;
    const key = randomUUID();
    const payout = await createPayout(token, 'WD-E2E-1', key);
    const retried = await createPayout(token, 'WD-E2E-1', key);
    assert.equal(retried.id, payout.id, 'a retry with the same Idempotency-Key is the same authorisation');

    // The member finds it on the home page and opens it.
    const open = await openFromHome(page, payout.id);
    await shot(page, 'home-pending');
    await open();
    const facts = await paymentFacts(page);
    assert.equal(facts['金额（元）'], ZH_CONFIRM.amount, JSON.stringify(facts));
    assert.equal(facts['收款人'], PAYEE.name);
    assert.equal(facts['收款账号'], PAYEE.account);
    assert.equal(facts['用途'], ZH_CONFIRM.purpose);
    assert.equal(facts['业务编号'], 'WD-E2E-1');
    assert.equal(await page.getByLabel('交易密码', { exact: true }).getAttribute('autocomplete'), 'off');
    await assertMaskedOnly(page);
    await assertTranslated(page);
    await shot(page, 'confirm');

    // A wrong transaction password: told so, with the tries left; nothing is decided.
    await page.getByLabel('交易密码', { exact: true }).fill(WRONG_TRANSACTION_PASSWORD);
    await navigating(page, () => page.getByRole('button', { name: ZH_CONFIRM.confirm, exact: true }).click());
    const [wrong] = await fieldErrors(page, 'transaction_password');
    assert.ok(wrong, `no message next to the password after a wrong one: ${await page.locator('main').innerText()}`);
    const remaining = ZH_CONFIRM.wrongPasswordPattern.exec(wrong);
    assert.ok(remaining, `unexpected message "${wrong}"`);
    assert.equal(Number(remaining[1]), TRANSACTION_TRIES - 1, `tries left: ${wrong}`);
    assert.ok((await summaryErrors(page)).includes(wrong), 'the message is in the error summary');
    assert.equal(await page.locator('#transaction_password').getAttribute('aria-invalid'), 'true');
    await assertPasswordsEmpty(page);
    assert.ok(!(await page.content()).includes(WRONG_TRANSACTION_PASSWORD), 'the typed password is not in the page');
    assert.deepEqual(await paymentFacts(page), facts, 'the same payment is shown again');
    await assertMaskedOnly(page);
    await shot(page, 'wrong-password');
    assert.equal((await readPayout(token, payout.id)).state, 'pending', 'a wrong password decides nothing');

    // The right one confirms it.
    await page.getByLabel('交易密码', { exact: true }).fill(TRANSACTION_PASSWORD);
    await navigating(page, () => page.getByRole('button', { name: ZH_CONFIRM.confirm, exact: true }).click());
    assert.equal(pathOf(page), `/confirm/${payout.id}`);
    assert.equal(await outcome(page), ZH_CONFIRM.confirmed, await page.locator('main').innerText());
    assert.equal(await page.locator('#transaction_password').count(), 0, 'no password field once decided');
    await assertMaskedOnly(page);
    await shot(page, 'confirmed');

    // The business system: confirmed, with a receipt signed by fundpass's published key.
    const confirmed = await readPayout(token, payout.id);
    assert.equal(confirmed.state, 'confirmed', JSON.stringify(confirmed));
    assert.equal(confirmed.channel, 'web');
    assert.equal(confirmed.confirm_url, undefined, 'no confirmation page once decided');
    assert.equal(typeof confirmed.receipt, 'string', `no receipt: ${JSON.stringify(confirmed)}`);
    const keySet = expectStatus(await internalApi(system, 'GET', '/internal/v1/jwks.json'), 200, 'jwks');
    const { header, claims } = verifyJws(confirmed.receipt, keySet);
    assert.equal(header.typ, 'payment-authorization+jwt');
    assert.equal(claims.iss, 'fundpass');
    assert.equal(claims.aud, CLIENT_ID);
    assert.equal(claims.authorization_id, payout.id);
    assert.equal(claims.account_no, member.account);
    assert.equal(claims.amount_fen, PAYMENT.amount_fen);
    assert.equal(claims.currency, 'CNY');
    assert.equal(claims.purpose, PAYMENT.purpose);
    assert.equal(claims.business_ref, 'WD-E2E-1');
    assert.equal(claims.payee_hash, payeeHash(PAYEE));
    assert.equal(claims.channel, 'web');
    assert.ok(claims.exp * 1000 > Date.now(), `the receipt has expired: exp ${claims.exp}`);
    // The check can fail: a receipt for another amount does not verify.
    const [h, , s] = confirmed.receipt.split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims, amount_fen: 9_999_999 })).toString('base64url');
    assert.throws(() => verifyJws(`${h}.${forged}.${s}`, keySet), /does not verify/);

    // Captured once; a second capture is refused.
    const captured = expectStatus(await internalApi(system, 'POST', `/internal/v1/authorizations/${payout.id}/capture`, { token }), 200, 'capture');
    assert.equal(captured.state, 'captured');
    const again = await internalApi(system, 'POST', `/internal/v1/authorizations/${payout.id}/capture`, { token });
    assert.equal(again.status, 409, `a second capture answered ${again.status}: ${again.text}`);
    assert.equal(again.body?.error?.code, 'already_captured', again.text);

    // A second payout, which the member declines.
    const second = await createPayout(token, 'WD-E2E-2');
    const openSecond = await openFromHome(page, second.id);
    await openSecond();
    await paymentFacts(page);
    await navigating(page, () => page.getByRole('button', { name: ZH_CONFIRM.decline, exact: true }).click());
    assert.equal(pathOf(page), `/confirm/${second.id}`);
    assert.equal(await outcome(page), ZH_CONFIRM.declined, await page.locator('main').innerText());
    await assertMaskedOnly(page);
    await shot(page, 'declined');
    const declined = await readPayout(token, second.id);
    assert.equal(declined.state, 'declined', JSON.stringify(declined));
    assert.equal(declined.receipt, undefined, 'no receipt for a declined payout');
    const refused = await internalApi(system, 'POST', `/internal/v1/authorizations/${second.id}/capture`, { token });
    assert.equal(refused.status, 409, `capturing a declined payout answered ${refused.status}: ${refused.text}`);
    assert.equal(refused.body?.error?.code, 'authorization_declined', refused.text);

    // Nothing waits any more.
    await page.goto('/home');
    assert.deepEqual(await pendingRows(page), [], 'decided payouts leave the home page');
    await assertMaskedOnly(page);
    await shot(page, 'home-after');

    assert.deepEqual(serverErrors, [], 'no page answered with a server error');
  } finally {
    await context.close();
  }
});
