// Seed scenario 3, method 1: a member who forgot both passwords uses the app. A face
// login (the dev simulator plays the certified provider) gives a recovery-only token;
// with it the transaction password is reset (own details, the phone on file typed in
// full, the SMS code); then the login password is reset anonymously with the NEW
// transaction password. The app calls go through Playwright's APIRequestContext; at
// the end the member logs in to the web portal with the new login password and sees
// both holds.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { request } from 'playwright-core';

import {
  BASE, MEMBERS, TEST_TIMEOUT, ZH, ZH_RECOVERY, api, assertHeading, assertHold,
  assertRecoveryTranslated, expectStatus, getJson, launch, loginWithDocument, messagesTo,
  newCode, openPage, outboxIds, pathOf, register, shooter, summaryErrors, waitForSmsCooldown,
} from './helpers.js';

// Not the member of any other test file, so the tests stand alone.
const member = MEMBERS.chenxiaohong;
const LOGIN_PASSWORD = 'Meadow2026rain';
const NEW_LOGIN_PASSWORD = 'Meadow2026snow';
const TRANSACTION_PASSWORD = '418362';
const NEW_TRANSACTION_PASSWORD = '953174';

let browser;
let app;
before(async () => {
  browser = await launch();
  app = await request.newContext({ baseURL: BASE });
});
after(async () => {
  await app?.dispose();
  await browser?.close();
});

test('a member who forgot both passwords resets them in the app after a face login', { timeout: TEST_TIMEOUT }, async () => {
  const { context, page, serverErrors } = await openPage(browser);
  const shot = shooter('recovery-both-app');
  try {
    await register(page, member, { loginPassword: LOGIN_PASSWORD, transactionPassword: TRANSACTION_PASSWORD });
    const started = new Date();
    const document = { id_type: member.idType, id_number: member.id };

    // Face login: challenge → the provider's signed result → a recovery-only token.
    const challenge = expectStatus(await api(app, 'POST', '/api/v1/face/start', { data: document }), 201, 'face/start');
    assert.ok(challenge.flow && challenge.nonce && challenge.expires_at, `challenge: ${JSON.stringify(challenge)}`);
    assert.ok(Date.parse(challenge.expires_at) > Date.now(), 'the challenge is still answerable');
    const signed = expectStatus(
      await api(app, 'POST', '/dev/face', { data: { nonce: challenge.nonce, ...document } }), 200, 'dev/face',
    );
    assert.equal(typeof signed.result, 'string');
    assert.equal(signed.result.split('.').length, 3, 'the result is a compact JWS');
    const face = expectStatus(
      await api(app, 'POST', '/api/v1/face/complete', { data: { flow: challenge.flow, result: signed.result } }),
      200, 'face/complete',
    );
    assert.equal(face.token_type, 'Bearer');
    assert.equal(face.scope, 'recovery');
    const { token } = face;
    assert.ok(token, 'a token');

    // The result is good once.
    const replay = await api(app, 'POST', '/api/v1/face/complete', { data: { flow: challenge.flow, result: signed.result } });
    assert.ok(replay.status >= 400 && replay.status < 500, `a replayed result must be refused, got ${replay.status}: ${replay.text}`);

    // The token opens nothing but the transaction-password recovery.
    const me = await api(app, 'GET', '/api/v1/me', { token });
    assert.ok([401, 403].includes(me.status), `/api/v1/me with a recovery token answered ${me.status}: ${me.text}`);
    assert.equal(me.body?.error?.code, 'recovery_session_only', me.text);
    const anonymous = await api(app, 'GET', '/api/v1/me');
    assert.equal(anonymous.status, 401, anonymous.text);

    // Forgotten transaction password, with the token.
    const opened = expectStatus(
      await api(app, 'POST', '/api/v1/recovery/transaction', { token, data: { name: member.name, ...document } }),
      201, 'recovery/transaction',
    );
    assert.equal(opened.masked_phone, member.maskedPhone);
    assert.ok(!JSON.stringify(opened).includes(member.phone), 'the full phone number is not in the answer');
    assert.ok(opened.flow, 'a flow');
    const { flow: transactionFlow } = opened;

    // Registering sent a code a moment ago: one code per phone per minute.
    await waitForSmsCooldown(member.phone);
    const seen = await outboxIds();
    const sent = expectStatus(
      await api(app, 'POST', '/api/v1/recovery/transaction/code-request', { token, data: { flow: transactionFlow, phone: member.phone } }),
      202, 'code-request',
    );
    assert.ok(Date.parse(sent.code_expires_at) > Date.now(), `code-request: ${JSON.stringify(sent)}`);
    const { code } = await newCode(member.phone, seen, 'recovery_code');
    const next = expectStatus(
      await api(app, 'POST', '/api/v1/recovery/transaction/code', { token, data: { flow: transactionFlow, code } }),
      200, 'transaction/code',
    );
    assert.equal(next.next, 'new_transaction_password');
    const transactionDone = expectStatus(
      await api(app, 'POST', '/api/v1/recovery/transaction/complete', {
        token,
        data: {
          flow: transactionFlow,
          new_transaction_password: NEW_TRANSACTION_PASSWORD,
          new_transaction_password_again: NEW_TRANSACTION_PASSWORD,
        },
      }),
      200, 'transaction/complete',
    );
    assert.equal(transactionDone.status, 'reset');

    // The reset ended every token, the recovery one too.
    const ended = await api(app, 'POST', '/api/v1/recovery/transaction', { token, data: { name: member.name, ...document } });
    assert.equal(ended.status, 401, `the recovery token must end with the reset: ${ended.text}`);

    // Forgotten login password, anonymously: captcha, details, the transaction password.
    const captcha = expectStatus(await api(app, 'POST', '/api/v1/captcha'), 201, 'captcha');
    assert.ok(captcha.captcha_id && captcha.image_png_base64, 'a captcha with a picture');
    const { answer } = await getJson(`/dev/captcha/${encodeURIComponent(captcha.captcha_id)}`);
    const login = expectStatus(
      await api(app, 'POST', '/api/v1/recovery/login', {
        data: { name: member.name, ...document, captcha_id: captcha.captcha_id, captcha_answer: answer },
      }),
      201, 'recovery/login',
    );
    assert.ok(login.flow, 'a flow');

    // The old transaction password no longer proves anything; the new one does.
    const old = await api(app, 'POST', '/api/v1/recovery/login/verify', {
      data: { flow: login.flow, transaction_password: TRANSACTION_PASSWORD },
    });
    assert.equal(old.status, 400, `the old transaction password must be refused: ${old.text}`);
    assert.equal(old.body?.error?.code, 'not_verified', old.text);
    const verified = expectStatus(
      await api(app, 'POST', '/api/v1/recovery/login/verify', {
        data: { flow: login.flow, transaction_password: NEW_TRANSACTION_PASSWORD },
      }),
      200, 'login/verify',
    );
    assert.equal(verified.next, 'new_password');
    const loginDone = expectStatus(
      await api(app, 'POST', '/api/v1/recovery/login/complete', {
        data: { flow: login.flow, new_password: NEW_LOGIN_PASSWORD, new_password_again: NEW_LOGIN_PASSWORD },
      }),
      200, 'login/complete',
    );
    assert.equal(loginDone.status, 'reset');

    const notices = (await messagesTo(member.phone)).filter((m) => m.purpose === 'reset_notice');
    assert.equal(notices.length, 2, 'a reset notice for each password');

    // The web portal: the old login password is refused, the new one logs in and the
    // home page shows both holds, placed through the app.
    await loginWithDocument(page, member, LOGIN_PASSWORD);
    assert.equal(pathOf(page), '/login', 'the old login password must not log in');
    assert.deepEqual(await summaryErrors(page), [ZH.invalid]);
    await loginWithDocument(page, member, NEW_LOGIN_PASSWORD);
    assert.equal(pathOf(page), '/home', `the new login password did not log in: ${await page.locator('main').innerText()}`);
    await assertHeading(page, ZH.homeTitle);
    await assertHold(page, { what: ZH_RECOVERY.transactionReset, channel: ZH_RECOVERY.channelApp, from: started });
    await assertHold(page, { what: ZH_RECOVERY.loginReset, channel: ZH_RECOVERY.channelApp, from: started });
    assert.ok(!(await page.content()).includes(member.phone), 'the full phone number is not on the page');
    await assertRecoveryTranslated(page);
    await shot(page, 'home-with-holds');

    assert.deepEqual(serverErrors, [], 'no page answered with a server error');
  } finally {
    await context.close();
  }
});
