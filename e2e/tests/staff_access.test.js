// Staff console, who gets in: a password without the second factor opens no console
// page; a staff member cannot act on their own member account (named with
// `fundpass staff add --own-id-type`); five wrong passwords lock a staff account and
// the page says until when.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  MEMBER_PAGE_PATH, TEST_TIMEOUT, ZH_STAFF, assertHeading, assertLabelled, assertPasswordsEmpty,
  assertStaffTranslated, chinaClock, createStaff, fieldErrors, freshTotp, fundpassCli,
  importMembers, launch, maskPhone, maskResidentId, navigating, openPage, pathOf, residentId,
  shooter, staffCookie, staffFirstLogin, staffLookUp, staffPasswordStep, submitTotp,
  summaryErrors, totpCode,
} from './helpers.js';

// Members of this file only: a member of staff's own account, and someone else.
const ownId = residentId('61011319850719033');
const own = {
  account: '200000000013', name: '吴晓明', idType: 'resident_id', id: ownId,
  phone: '13700000013', maskedId: maskResidentId(ownId), maskedPhone: maskPhone('13700000013'),
};
const otherId = residentId('21010219791130044');
const other = {
  account: '200000000014', name: '郑海燕', idType: 'resident_id', id: otherId,
  phone: '13700000014', maskedId: maskResidentId(otherId), maskedPhone: maskPhone('13700000014'),
};

const gate = { username: 'e2e.access.gate', name: '柜员冯涛', role: 'counter', password: 'Granite#Meadow28' };
const self = {
  username: 'e2e.access.self', name: '吴晓明', role: 'counter', password: 'Saffron#Bridge64',
  ownIdType: own.idType, ownIdNumber: own.id,
};
const locked = { username: 'e2e.access.lock', name: '柜员何静', role: 'counter', password: 'Thistle#Anchor71' };
const ATTEMPTS_BEFORE_LOCK = 5;
const LOCK_MINUTES = 15;

let browser;
before(async () => {
  browser = await launch();
  await importMembers([own, other]);
  for (const staff of [gate, self, locked]) await createStaff(staff);
});
after(async () => {
  await browser?.close();
});

/** Asserts a GET of `path` lands on the console's login page. */
async function assertLandsOnLogin(page, path) {
  await page.goto(path);
  assert.equal(pathOf(page), '/staff/login', `${path} must lead to the login page, not ${page.url()}`);
  await assertHeading(page, ZH_STAFF.loginTitle);
}

test('a password without the second factor opens no console page', { timeout: TEST_TIMEOUT }, async () => {
  const first = await openPage(browser);
  const enrolled = await openPage(browser);
  const again = await openPage(browser);
  const shot = shooter('staff-access-mfa');
  try {
    // A first login stopped at the enrolment page: the console stays shut.
    const { page } = first;
    await page.goto('/staff/login');
    await assertHeading(page, ZH_STAFF.loginTitle);
    const labels = await assertLabelled(page);
    assert.deepEqual(labels, { username: '用户名', password: '密码' });
    await assertStaffTranslated(page);
    await shot(page, 'login');
    await staffPasswordStep(page, gate);
    assert.equal(pathOf(page), '/staff/mfa');
    await assertHeading(page, ZH_STAFF.enrolTitle);
    assert.ok(await staffCookie(first.context), 'the password step sets the staff cookie');
    for (const path of ['/staff', '/staff/approvals', '/staff/members/1', '/staff/password']) {
      await assertLandsOnLogin(page, path);
    }
    await assertStaffTranslated(page);

    // Enrolled in another browser; then a password step alone there again: the code
    // page (no secret shown a second time) and still no console.
    const { secret, step } = await staffFirstLogin(enrolled.page, gate);
    const { page: second } = again;
    await staffPasswordStep(second, gate);
    assert.equal(pathOf(second), '/staff/mfa');
    await assertHeading(second, ZH_STAFF.mfaTitle);
    assert.equal(await second.locator('#totp-secret').count(), 0, 'the secret is shown at the enrolment only');
    assert.equal(await second.locator('img.qr').count(), 0, 'the QR code is shown at the enrolment only');
    assert.deepEqual(Object.keys(await assertLabelled(second)), ['code']);
    await assertStaffTranslated(second);
    await shot(second, 'code-page');

    // A wrong code is refused next to the field, with the tries left; the code the
    // enrolment used is refused as replayed; the next step's code opens the console.
    const right = totpCode(secret);
    await submitTotp(second, String((Number(right) + 500_000) % 1_000_000).padStart(6, '0'));
    assert.equal(pathOf(second), '/staff/mfa');
    const wrong = await fieldErrors(second, 'code');
    assert.equal(wrong.length, 1, `one message next to the code: ${JSON.stringify(wrong)}`);
    assert.match(wrong[0], /^口令错误或已过期，再错\d+次账号将被锁定。$/);
    await assertStaffTranslated(second);
    await shot(second, 'wrong-code');
    await submitTotp(second, totpCode(secret, step));
    assert.equal(pathOf(second), '/staff/mfa');
    assert.deepEqual(await fieldErrors(second, 'code'), ['该口令已使用过，请等待下一个口令。']);
    const { code } = await freshTotp(secret, step);
    await submitTotp(second, code);
    assert.equal(pathOf(second), '/staff', `the next code did not open the console: ${await second.locator('main').innerText()}`);
    await assertHeading(second, ZH_STAFF.homeTitle);

    for (const side of [first, enrolled, again]) {
      assert.deepEqual(side.serverErrors, [], 'no page answered with a server error');
    }
  } finally {
    await again.context.close();
    await enrolled.context.close();
    await first.context.close();
  }
});

test('a member of staff is refused on their own member account', { timeout: TEST_TIMEOUT }, async () => {
  const help = await fundpassCli(['staff', 'add', '--help']);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /--own-id-type/, 'staff add names the staff member\'s own document');

  const { context, page, serverErrors } = await openPage(browser);
  const shot = shooter('staff-access-own');
  try {
    await staffFirstLogin(page, self);

    // Their own document: refused, and nothing of the account is shown.
    await staffLookUp(page, own, { expectStatus: 403 });
    await assertHeading(page, ZH_STAFF.homeTitle);
    assert.deepEqual(await summaryErrors(page), [ZH_STAFF.ownAccount]);
    const html = await page.content();
    for (const shown of [own.account, own.maskedId, own.maskedPhone, own.phone]) {
      assert.ok(!html.includes(shown), `the refusal shows "${shown}"`);
    }
    assert.equal(await page.locator('#member-title').count(), 0, 'no member page');
    await assertLabelled(page);
    await assertStaffTranslated(page);
    await shot(page, 'own-account-refused');

    // Someone else's document: their page.
    await staffLookUp(page, other);
    assert.match(pathOf(page), MEMBER_PAGE_PATH);
    await assertHeading(page, ZH_STAFF.memberTitle);
    assert.equal((await page.locator('#member-title').innerText()).trim(), other.name);
    await assertLabelled(page);
    await assertStaffTranslated(page);

    assert.deepEqual(serverErrors, [], 'no page answered with a server error');
  } finally {
    await context.close();
  }
});

test('five wrong passwords lock a staff account; the page says until when', { timeout: TEST_TIMEOUT }, async () => {
  const { context, page, serverErrors } = await openPage(browser);
  const shot = shooter('staff-access-lock');
  try {
    const lockEnds = [];
    let fifth = null;
    for (let attempt = 1; attempt <= ATTEMPTS_BEFORE_LOCK; attempt += 1) {
      const sent = new Date();
      await staffPasswordStep(page, locked, `${locked.password}x`);
      lockEnds.push(chinaClock(sent, LOCK_MINUTES), chinaClock(new Date(), LOCK_MINUTES));
      assert.equal(pathOf(page), '/staff/login', `attempt ${attempt} must stay on the login page`);
      await assertHeading(page, ZH_STAFF.loginTitle);
      const errors = await summaryErrors(page);
      assert.equal(errors.length, 1, `attempt ${attempt}: one message expected, got ${JSON.stringify(errors)}`);
      await assertPasswordsEmpty(page);
      await assertStaffTranslated(page);
      if (attempt < ATTEMPTS_BEFORE_LOCK) {
        assert.equal(errors[0], ZH_STAFF.invalid, `attempt ${attempt}`);
      } else {
        [fifth] = errors;
        await shot(page, 'fifth-wrong-password');
      }
    }

    // Locked now: even the right password does not get to the second factor, and the
    // page says until when (China time), 15 minutes after the fifth failure.
    await staffPasswordStep(page, locked);
    assert.equal(pathOf(page), '/staff/login', 'the right password must not pass during the lock');
    const errors = await summaryErrors(page);
    assert.equal(errors.length, 1, `one message expected, got ${JSON.stringify(errors)}`);
    const match = ZH_STAFF.lockedPattern.exec(errors[0]);
    assert.ok(match, `the locked account must be told so, got "${errors[0]}"`);
    const fits = ({ date, time }) => match[1] === time || match[1] === `${date} ${time}`;
    assert.ok(lockEnds.slice(-2).some(fits),
      `lock end "${match[1]}" is not ${LOCK_MINUTES} minutes after the fifth failure (${lockEnds.slice(-2).map((e) => e.time).join(' or ')})`);
    await assertPasswordsEmpty(page);
    await assertStaffTranslated(page);
    await shot(page, 'locked-right-password-refused');
    await assertLandsOnLogin(page, '/staff');

    // As on the member portal (lockout.test.js), the fifth failure itself already says
    // the account is locked and until when.
    assert.equal(fifth, errors[0], 'the fifth wrong password must answer with the lock message');

    assert.deepEqual(serverErrors, [], 'no page answered with a server error');
  } finally {
    await context.close();
  }
});
