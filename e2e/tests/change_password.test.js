// A member who knows the passwords changes them from the security menu (辅助功能 →
// 修改登录密码 / 修改交易密码): the current one, the new one twice. A wrong current
// password is refused next to its field; a change keeps this browser logged in under
// a new session cookie, logs every other browser out and texts the phone on file.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  TEST_TIMEOUT, ZH, assertHeading, assertLabelled, assertPasswordsEmpty, assertTranslated,
  fieldErrors, importMembers, launch, loginWithDocument, messagesTo, navigating, openPage,
  pathOf, register, residentId, sessionCookie, shooter,
} from './helpers.js';

// Imported here, so the file stands alone and no other test logs this member in.
const member = {
  account: '200000000031', name: '冯晓岚', idType: 'resident_id',
  id: residentId('11010819870925046'), phone: '13700000031',
};
const LOGIN_PASSWORD = 'Maple2026stone';
const NEW_LOGIN_PASSWORD = 'Cedar7harbor58';
const TRANSACTION_PASSWORD = '731904';
const NEW_TRANSACTION_PASSWORD = '860275';

let browser;
before(async () => {
  browser = await launch();
  await importMembers([member]);
});
after(async () => {
  await browser?.close();
});

/** Fills and posts the change form of the page shown. */
async function submitChange(page, { current, next, again = next }) {
  const labels = await assertLabelled(page);
  assert.deepEqual(Object.keys(labels).sort(), ['current_password', 'new_password', 'new_password_again']);
  await page.locator('#current_password').fill(current);
  await page.locator('#new_password').fill(next);
  await page.locator('#new_password_again').fill(again);
  await navigating(page, () => page.getByRole('button', { name: '确认修改', exact: true }).click());
}

test('a member changes both passwords; this browser goes on, the other is logged out', { timeout: TEST_TIMEOUT }, async () => {
  const { context, page, serverErrors } = await openPage(browser);
  const other = await openPage(browser);
  const shot = shooter('change-password');
  try {
    await register(page, member, { loginPassword: LOGIN_PASSWORD, transactionPassword: TRANSACTION_PASSWORD });
    await loginWithDocument(page, member, LOGIN_PASSWORD);
    assert.equal(pathOf(page), '/home');
    await loginWithDocument(other.page, member, LOGIN_PASSWORD);
    assert.equal(pathOf(other.page), '/home');
    const before = (await sessionCookie(context))?.value;
    assert.ok(before, 'the login set a session cookie');

    await page.goto('/security');
    await navigating(page, () => page.getByRole('link', { name: '修改登录密码', exact: true }).click());
    assert.equal(pathOf(page), '/security/password');
    await assertHeading(page, '修改登录密码');
    await assertTranslated(page);
    await shot(page, 'login-form');

    // A wrong current password: the form again, the reason next to the field.
    await submitChange(page, { current: 'Maple2026stones', next: NEW_LOGIN_PASSWORD });
    await assertHeading(page, '修改登录密码');
    assert.deepEqual(await fieldErrors(page, 'current_password'), ['当前登录密码错误，还可尝试 4 次，之后账户将被锁定。']);
    assert.equal(await assertPasswordsEmpty(page), 3);
    await shot(page, 'login-wrong-current');

    await submitChange(page, { current: LOGIN_PASSWORD, next: NEW_LOGIN_PASSWORD });
    assert.equal((await page.locator('.notice[role=status]').innerText()).trim(), '您的登录密码已修改，下次登录请使用新密码。');
    await shot(page, 'login-done');
    const afterLogin = (await sessionCookie(context))?.value;
    assert.ok(afterLogin && afterLogin !== before, 'a new session cookie');
    await page.goto('/home');
    await assertHeading(page, ZH.homeTitle);
    await other.page.goto('/home');
    assert.equal(pathOf(other.page), '/login', 'the other browser is logged out');

    const texts = (await messagesTo(member.phone)).filter((m) => m.purpose === 'password_changed');
    assert.equal(texts.length, 1, JSON.stringify(texts));
    assert.match(texts[0].text, /您的登录密码已于.*通过个人网上业务平台修改/);

    // The transaction password, from the same menu.
    await page.goto('/security');
    await navigating(page, () => page.getByRole('link', { name: '修改交易密码', exact: true }).click());
    assert.equal(pathOf(page), '/security/transaction-password/change');
    await submitChange(page, { current: TRANSACTION_PASSWORD, next: '123456' });
    assert.deepEqual(await fieldErrors(page, 'new_password'), ['交易密码不能是连续递增或递减的数字（如 123456、654321）。']);
    await shot(page, 'transaction-refused');
    await submitChange(page, { current: TRANSACTION_PASSWORD, next: NEW_TRANSACTION_PASSWORD });
    assert.equal((await page.locator('.notice[role=status]').innerText()).trim(), '您的交易密码已修改，今后办理业务请使用新交易密码。');
    assert.notEqual((await sessionCookie(context))?.value, afterLogin, 'a new cookie again');
    await page.goto('/home');
    await assertHeading(page, ZH.homeTitle);
    await shot(page, 'home-after');

    // The new login password is the one that works now.
    await loginWithDocument(other.page, member, NEW_LOGIN_PASSWORD);
    assert.equal(pathOf(other.page), '/home');
    assert.deepEqual(serverErrors, []);
  } finally {
    await context.close();
    await other.context.close();
  }
});
