// Lockout: five wrong passwords in a row lock the member, the fifth answer says until
// when, and during the lock even the right password does not log in.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  MEMBERS, TEST_TIMEOUT, ZH, assertHeading, assertPasswordsEmpty, chinaClock, launch,
  loginWithDocument, openPage, pathOf, register, shooter, summaryErrors,
} from './helpers.js';

// Not the member of registration_then_login.test.js, so the tests stand alone.
const member = MEMBERS.lisi;
const LOGIN_PASSWORD = 'Maple2026tree';
const WRONG_PASSWORD = 'Maple2026leaf';
const TRANSACTION_PASSWORD = '246813';
const ATTEMPTS_BEFORE_LOCK = 5;
const LOCK_MINUTES = 15;

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('five wrong passwords lock the member; the right one is then refused with the same message', { timeout: TEST_TIMEOUT }, async () => {
  const { context, page, serverErrors } = await openPage(browser);
  const shot = shooter('lockout');
  try {
    await register(page, member, { loginPassword: LOGIN_PASSWORD, transactionPassword: TRANSACTION_PASSWORD, shot });

    await page.goto('/login');
    let previousCaptcha = null;
    let lockMessage = null;
    for (let attempt = 1; attempt <= ATTEMPTS_BEFORE_LOCK; attempt += 1) {
      const captchaId = await page.locator('input[name=captcha_id]').inputValue();
      assert.notEqual(captchaId, previousCaptcha, `attempt ${attempt} must get a new captcha`);
      previousCaptcha = captchaId;

      const sent = new Date();
      await loginWithDocument(page, member, WRONG_PASSWORD);
      const done = new Date();
      assert.equal(pathOf(page), '/login', `attempt ${attempt} must stay on the login page`);
      await assertHeading(page, ZH.loginTitle);
      const errors = await summaryErrors(page);
      assert.equal(errors.length, 1, `attempt ${attempt}: one message expected, got ${JSON.stringify(errors)}`);
      await assertPasswordsEmpty(page);

      if (attempt < ATTEMPTS_BEFORE_LOCK) {
        assert.equal(errors[0], ZH.invalid, `attempt ${attempt}`);
        continue;
      }
      // The fifth failure locks: "请于 HH:MM 后再试" with the end of the lock, China time.
      const match = ZH.lockedPattern.exec(errors[0]);
      assert.ok(match, `attempt ${attempt} must show the lock message, got "${errors[0]}"`);
      lockMessage = errors[0];
      const shown = match[1];
      const expected = [chinaClock(sent, LOCK_MINUTES), chinaClock(done, LOCK_MINUTES)];
      assert.ok(
        expected.some(({ date, time }) => shown === time || shown === `${date} ${time}`),
        `lock end "${shown}" is not ${LOCK_MINUTES} minutes from now (${expected.map((e) => e.time).join(' or ')})`,
      );
      assert.ok(await page.getByText(lockMessage, { exact: true }).isVisible(), 'the lock message is visible');
      await shot(page, 'locked-after-5-failures');
    }

    // During the lock the right password does not log in, and the lock is not extended.
    await loginWithDocument(page, member, LOGIN_PASSWORD);
    assert.equal(pathOf(page), '/login', 'the right password must not log in during the lock');
    assert.deepEqual(await summaryErrors(page), [lockMessage], 'the same lock message, same end time');
    await shot(page, 'locked-right-password-refused');

    await page.goto('/home');
    assert.equal(pathOf(page), '/login', 'no session was opened');

    assert.deepEqual(serverErrors, [], 'no page answered with a server error');
  } finally {
    await context.close();
  }
});
