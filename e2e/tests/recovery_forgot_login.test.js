// Seed scenario 1, in the browser: a registered member who forgot the login password
// gets it back from the login page's "忘记密码" with the transaction password. Every
// session ends (another browser's too), the old password stops working, the new one
// logs in, and the home page shows the hold the reset placed. A wrong proof gets one
// generic message that never says which detail was wrong.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  MEMBERS, TEST_TIMEOUT, ZH, ZH_RECOVERY, assertHeading, assertHold, assertLabelled,
  assertPasswordsEmpty, assertRecoveryTranslated, fieldErrors, fillRecoveryIdentify, launch,
  loginWithDocument, messagesTo, navigating, openPage, pathOf, register, shooter, summaryErrors,
  tabTo,
} from './helpers.js';

// Not the member of any other test file, so the tests stand alone. A passport holder:
// the document type travels through every step.
const member = MEMBERS.maria;
const LOGIN_PASSWORD = 'Harbor2026wind';
const NEW_LOGIN_PASSWORD = 'Harbor2026tide';
const TRANSACTION_PASSWORD = '730518';
const WRONG_TRANSACTION_PASSWORD = '730519';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** The label of the step the list at the top of the form marks as current. */
async function currentStep(page) {
  return (await page.locator('ol.steps li[aria-current=step]').innerText()).trim();
}

/** The one message of a refused proof, checked to name no field. */
async function genericRefusal(page) {
  const errors = await summaryErrors(page);
  assert.equal(errors.length, 1, `one message expected, got ${JSON.stringify(errors)}`);
  const [message] = errors;
  assert.match(message, ZH_RECOVERY.notVerifiedPattern);
  for (const word of ['交易密码', '姓名', '证件', '密码错误']) {
    assert.ok(!message.includes(word), `the message "${message}" names "${word}"`);
  }
  assert.deepEqual(await fieldErrors(page, 'transaction_password'), [], 'the message is not put on the password field');
  assert.notEqual(await page.locator('#transaction_password').getAttribute('aria-invalid'), 'true');
  await assertPasswordsEmpty(page);
  return message;
}

test('a member who forgot the login password resets it with the transaction password', { timeout: TEST_TIMEOUT }, async () => {
  const { context, page, serverErrors } = await openPage(browser);
  const other = await openPage(browser);
  const shot = shooter('recovery-login');
  try {
    await register(page, member, { loginPassword: LOGIN_PASSWORD, transactionPassword: TRANSACTION_PASSWORD });

    // Logged in on another device, then logged out here: the reset must end that session.
    await loginWithDocument(other.page, member, LOGIN_PASSWORD);
    assert.equal(pathOf(other.page), '/home', `the other browser did not log in: ${await other.page.locator('main').innerText()}`);
    await loginWithDocument(page, member, LOGIN_PASSWORD);
    assert.equal(pathOf(page), '/home');
    await navigating(page, () => page.getByRole('button', { name: '退出登录', exact: true }).click());
    assert.equal(pathOf(page), '/login');
    const started = new Date();

    // The login page links to the recovery.
    await navigating(page, () => page.getByRole('link', { name: ZH_RECOVERY.forgotLink, exact: true }).click());
    assert.equal(pathOf(page), '/forgot-password');
    await assertHeading(page, ZH_RECOVERY.forgotLoginTitle);
    assert.equal(await currentStep(page), '核对身份');
    const identifyLabels = await assertLabelled(page);
    assert.deepEqual(Object.keys(identifyLabels).sort(), ['captcha_answer', 'id_number', 'id_type', 'name']);
    await assertRecoveryTranslated(page);
    await shot(page, 'identify');

    // A name that is not the member's still leads to the proof step, and the right
    // transaction password there gets the same answer as a wrong one.
    await fillRecoveryIdentify(page, member, { name: 'Maria Lopes' });
    await navigating(page, () => page.getByRole('button', { name: '下一步', exact: true }).click());
    await assertHeading(page, ZH_RECOVERY.forgotLoginTitle);
    assert.equal(await currentStep(page), '验证交易密码');
    await page.getByLabel('交易密码', { exact: true }).fill(TRANSACTION_PASSWORD);
    await navigating(page, () => page.getByRole('button', { name: '下一步', exact: true }).click());
    const wrongName = await genericRefusal(page);
    await shot(page, 'wrong-name-refused');

    // Again with the right details, the transaction password typed with the keyboard
    // alone, wrong first.
    await navigating(page, () => page.getByRole('link', { name: '重新开始', exact: true }).click());
    assert.equal(pathOf(page), '/forgot-password');
    await fillRecoveryIdentify(page, member);
    await navigating(page, () => page.getByRole('button', { name: '下一步', exact: true }).click());
    await assertHeading(page, ZH_RECOVERY.forgotLoginTitle);
    assert.equal(await currentStep(page), '验证交易密码');
    const verifyLabels = await assertLabelled(page);
    assert.deepEqual(Object.keys(verifyLabels), ['transaction_password']);
    assert.equal(await page.locator('#transaction_password').getAttribute('autocomplete'), 'off');
    await assertRecoveryTranslated(page);
    await shot(page, 'verify');
    await tabTo(page, 'transaction_password');
    await page.keyboard.type(WRONG_TRANSACTION_PASSWORD);
    await navigating(page, () => page.keyboard.press('Enter'));
    const wrongPassword = await genericRefusal(page);
    assert.equal(wrongPassword.replace(/\d+/g, 'N'), wrongName.replace(/\d+/g, 'N'),
      'a wrong name and a wrong transaction password read the same');
    assert.ok(!(await page.content()).includes(WRONG_TRANSACTION_PASSWORD), 'the typed password is not in the page');
    await shot(page, 'wrong-transaction-password-refused');

    await page.getByLabel('交易密码', { exact: true }).fill(TRANSACTION_PASSWORD);
    await navigating(page, () => page.getByRole('button', { name: '下一步', exact: true }).click());
    await assertHeading(page, ZH_RECOVERY.forgotLoginTitle);
    assert.equal(await currentStep(page), '设置新登录密码', `not on the new-password step: ${await page.locator('main').innerText()}`);
    const newLabels = await assertLabelled(page);
    assert.deepEqual(newLabels, { new_password: '设置登录密码', new_password_again: '再次输入登录密码' });
    for (const id of Object.keys(newLabels)) {
      assert.equal(await page.locator(`#${id}`).getAttribute('autocomplete'), 'new-password', `#${id}`);
    }
    assert.equal(await assertPasswordsEmpty(page), 2);
    await shot(page, 'new-password');

    // Two different passwords: refused next to the second field, both fields empty.
    await page.getByLabel('设置登录密码', { exact: true }).fill(NEW_LOGIN_PASSWORD);
    await page.getByLabel('再次输入登录密码', { exact: true }).fill(`${NEW_LOGIN_PASSWORD}x`);
    await navigating(page, () => page.getByRole('button', { name: '提交', exact: true }).click());
    assert.deepEqual(await fieldErrors(page, 'new_password_again'), [ZH_RECOVERY.loginMismatch]);
    assert.equal(await assertPasswordsEmpty(page), 2);
    assert.ok(!(await page.content()).includes(NEW_LOGIN_PASSWORD), 'the typed password is not in the page');
    await shot(page, 'new-password-mismatch');

    await page.getByLabel('设置登录密码', { exact: true }).fill(NEW_LOGIN_PASSWORD);
    await page.getByLabel('再次输入登录密码', { exact: true }).fill(NEW_LOGIN_PASSWORD);
    await navigating(page, () => page.getByRole('button', { name: '提交', exact: true }).click());
    await assertHeading(page, ZH_RECOVERY.doneTitle);
    assert.equal((await page.locator('.notice[role=status]').innerText()).trim(), ZH_RECOVERY.loginDone);
    assert.ok((await page.locator('main').innerText()).includes(ZH_RECOVERY.loggedOut), 'the done page says every session ended');
    await assertRecoveryTranslated(page);
    await shot(page, 'done');

    // The other browser's session has ended.
    await other.page.goto('/home');
    assert.equal(pathOf(other.page), '/login', 'the session of the other browser must end with the reset');

    // The old password is refused, the new one logs in, and the home page shows the hold.
    await navigating(page, () => page.getByRole('link', { name: '前往登录', exact: true }).click());
    assert.equal(pathOf(page), '/login');
    await loginWithDocument(page, member, LOGIN_PASSWORD);
    assert.equal(pathOf(page), '/login', 'the old password must not log in');
    assert.deepEqual(await summaryErrors(page), [ZH.invalid]);
    await shot(page, 'old-password-refused');
    await loginWithDocument(page, member, NEW_LOGIN_PASSWORD);
    assert.equal(pathOf(page), '/home', `the new password did not log in: ${await page.locator('main').innerText()}`);
    await assertHeading(page, ZH.homeTitle);
    await assertHold(page, { what: ZH_RECOVERY.loginReset, channel: ZH_RECOVERY.channelWeb, from: started });
    await assertRecoveryTranslated(page);
    await shot(page, 'home-with-hold');

    // The phone on file was told, without any password.
    const notices = (await messagesTo(member.phone)).filter((m) => m.purpose === 'reset_notice');
    assert.equal(notices.length, 1, 'one reset notice to the phone on file');
    for (const secret of [LOGIN_PASSWORD, NEW_LOGIN_PASSWORD, TRANSACTION_PASSWORD]) {
      assert.ok(!notices[0].text.includes(secret), 'the notice carries no password');
    }

    assert.deepEqual([...serverErrors, ...other.serverErrors], [], 'no page answered with a server error');
  } finally {
    await other.context.close();
    await context.close();
  }
});
