// Seed scenario 2, in the browser: a logged-in member who forgot the transaction
// password gets a new one from the security menu (辅助功能 → 交易密码找回): own name and
// document, the phone on file shown masked and typed in full, an SMS code, the new
// six-digit password twice. The reset ends every session, this browser's too; the
// login password still works and the home page shows the hold.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  MEMBERS, TEST_TIMEOUT, ZH, ZH_RECOVERY, assertHeading, assertHold, assertLabelled,
  assertPasswordsEmpty, assertRecoveryTranslated, fieldErrors, fillRecoveryIdentify, holdRows,
  launch, loginWithDocument, messagesTo, navigating, newCode, openPage, outboxIds, pathOf,
  register, sessionCookie, shooter, tabTo, waitForSmsCooldown,
} from './helpers.js';

// Not the member of any other test file, so the tests stand alone.
const member = MEMBERS.zhaoliu;
const LOGIN_PASSWORD = 'Willow2026lake';
const TRANSACTION_PASSWORD = '864209';
const NEW_TRANSACTION_PASSWORD = '592047';
const WRONG_PHONE = '18600000044';

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

/** Asserts the full phone number on file is nowhere in the page's HTML. */
async function assertNoFullPhone(page, ...typed) {
  const html = await page.content();
  for (const number of [member.phone, ...typed]) {
    assert.ok(!html.includes(number), `the full number ${number} is in the HTML of ${page.url()}`);
  }
}

test('a logged-in member resets the transaction password from the security menu', { timeout: TEST_TIMEOUT }, async () => {
  const { context, page, serverErrors } = await openPage(browser);
  const shot = shooter('recovery-transaction');
  try {
    await register(page, member, { loginPassword: LOGIN_PASSWORD, transactionPassword: TRANSACTION_PASSWORD });
    await loginWithDocument(page, member, LOGIN_PASSWORD);
    assert.equal(pathOf(page), '/home', `login did not reach the home page: ${await page.locator('main').innerText()}`);
    assert.deepEqual(await holdRows(page), [], 'no hold before the reset');
    await shot(page, 'home');
    const cookie = await sessionCookie(context);
    assert.ok(cookie, 'the login set a session cookie');

    // Home → security menu → 交易密码找回.
    await navigating(page, () => page.getByRole('link', { name: ZH_RECOVERY.securityLink, exact: true }).click());
    assert.equal(pathOf(page), '/security');
    await assertHeading(page, ZH_RECOVERY.securityTitle);
    assert.ok(await page.getByText(ZH_RECOVERY.noHolds, { exact: true }).isVisible(), 'the menu says there is no hold');
    await assertRecoveryTranslated(page);
    await shot(page, 'security-menu');
    await navigating(page, () => page.getByRole('link', { name: ZH_RECOVERY.forgotTransactionTitle, exact: true }).click());
    assert.equal(pathOf(page), '/security/transaction-password');
    await assertHeading(page, ZH_RECOVERY.forgotTransactionTitle);
    assert.equal(await currentStep(page), '核对身份');
    const identifyLabels = await assertLabelled(page);
    assert.deepEqual(Object.keys(identifyLabels).sort(), ['captcha_answer', 'id_number', 'id_type', 'name']);
    await assertRecoveryTranslated(page);
    await fillRecoveryIdentify(page, member);
    await shot(page, 'identify');

    // The phone on file, masked; the full number is nowhere in the page.
    await navigating(page, () => page.getByRole('button', { name: '下一步', exact: true }).click());
    await assertHeading(page, ZH_RECOVERY.forgotTransactionTitle);
    assert.equal(await currentStep(page), '核对手机号', `not on the phone step: ${await page.locator('main').innerText()}`);
    const onFile = page.locator('dl.profile dd');
    assert.equal((await onFile.innerText()).trim(), member.maskedPhone);
    assert.ok(await onFile.isVisible(), 'the masked phone is visible');
    await assertNoFullPhone(page);
    const phoneLabels = await assertLabelled(page);
    assert.deepEqual(phoneLabels, { phone: '完整输入中心留存手机号' });
    await assertRecoveryTranslated(page);
    await shot(page, 'phone');

    // Another number is refused next to the field, and not written back either.
    const seen = await outboxIds();
    await page.getByLabel('完整输入中心留存手机号', { exact: true }).fill(WRONG_PHONE);
    await navigating(page, () => page.getByRole('button', { name: '获取短信验证码', exact: true }).click());
    assert.equal(await currentStep(page), '核对手机号');
    const phoneErrors = await fieldErrors(page, 'phone');
    assert.equal(phoneErrors.length, 1, `one message next to the phone field, got ${JSON.stringify(phoneErrors)}`);
    assert.match(phoneErrors[0], ZH_RECOVERY.wrongPhonePattern);
    assert.equal(await page.locator('#phone').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('完整输入中心留存手机号', { exact: true }).inputValue(), '', 'the typed number is not kept');
    assert.equal((await page.locator('dl.profile dd').innerText()).trim(), member.maskedPhone);
    await assertNoFullPhone(page, WRONG_PHONE);
    assert.equal((await messagesTo(WRONG_PHONE)).length, 0, 'nothing is sent to a number typed wrong');
    assert.equal((await messagesTo(member.phone)).filter((m) => !seen.has(m.id)).length, 0, 'nothing is sent on a wrong number');
    await shot(page, 'phone-wrong-number');

    // Registering sent a code a moment ago: one code per phone per minute.
    await waitForSmsCooldown(member.phone);
    await page.getByLabel('完整输入中心留存手机号', { exact: true }).fill(member.phone);
    await navigating(page, () => page.getByRole('button', { name: '获取短信验证码', exact: true }).click());
    assert.equal(await currentStep(page), '短信验证', `not on the code step: ${await page.locator('main').innerText()}`);
    assert.equal((await page.locator('.notice[role=status]').innerText()).trim(), ZH_RECOVERY.codeSent(member.maskedPhone));
    await assertNoFullPhone(page);
    const codeLabels = await assertLabelled(page);
    assert.deepEqual(codeLabels, { code: '短信验证码' });
    assert.equal(await page.locator('#code').getAttribute('autocomplete'), 'one-time-code');
    await assertRecoveryTranslated(page);
    await shot(page, 'code');

    // The code from the outbox, typed with the keyboard alone.
    const { code } = await newCode(member.phone, seen, 'recovery_code');
    await tabTo(page, 'code');
    await page.keyboard.type(code);
    await navigating(page, () => page.keyboard.press('Enter'));
    assert.equal(await currentStep(page), '设置新交易密码', `not on the new-password step: ${await page.locator('main').innerText()}`);
    const newLabels = await assertLabelled(page);
    assert.deepEqual(newLabels, { new_password: '设置交易密码', new_password_again: '再次输入交易密码' });
    for (const id of Object.keys(newLabels)) {
      assert.equal(await page.locator(`#${id}`).getAttribute('inputmode'), 'numeric', `#${id} asks for digits`);
      assert.equal(await page.locator(`#${id}`).getAttribute('maxlength'), '6', `#${id} takes six digits`);
    }
    assert.equal(await assertPasswordsEmpty(page), 2);
    await assertRecoveryTranslated(page);
    await shot(page, 'new-password');

    await page.getByLabel('设置交易密码', { exact: true }).fill(NEW_TRANSACTION_PASSWORD);
    await page.getByLabel('再次输入交易密码', { exact: true }).fill(NEW_TRANSACTION_PASSWORD);
    const reset = new Date();
    await navigating(page, () => page.getByRole('button', { name: '提交', exact: true }).click());
    await assertHeading(page, ZH_RECOVERY.doneTitle);
    assert.equal((await page.locator('.notice[role=status]').innerText()).trim(), ZH_RECOVERY.transactionDone);
    assert.ok((await page.locator('main').innerText()).includes(ZH_RECOVERY.loggedOut), 'the done page says every session ended');
    await assertRecoveryTranslated(page);
    await shot(page, 'done');

    // Logged out: the home page leads to the login page, and the old session cookie,
    // sent again, opens nothing either.
    await page.goto('/home');
    assert.equal(pathOf(page), '/login', '/home after the reset must lead to the login page');
    await assertHeading(page, ZH.loginTitle);
    await shot(page, 'home-redirects-to-login');
    await context.addCookies([cookie]);
    await page.goto('/home');
    assert.equal(pathOf(page), '/login', 'the session cookie from before the reset must no longer work');
    await page.goto('/security');
    assert.equal(pathOf(page), '/login', 'the security menu is closed too');
    await context.clearCookies();
    await page.goto('/login'); // a fresh form token for the cleared cookies

    // The login password still works, and the home page and the menu show the hold.
    await loginWithDocument(page, member, LOGIN_PASSWORD);
    assert.equal(pathOf(page), '/home', `login after the reset failed: ${await page.locator('main').innerText()}`);
    await assertHold(page, { what: ZH_RECOVERY.transactionReset, channel: ZH_RECOVERY.channelWeb, from: reset });
    await assertNoFullPhone(page);
    await shot(page, 'home-with-hold');
    await navigating(page, () => page.getByRole('link', { name: ZH_RECOVERY.securityLink, exact: true }).click());
    await assertHold(page, { what: ZH_RECOVERY.transactionReset, channel: ZH_RECOVERY.channelWeb, from: reset });
    await shot(page, 'security-menu-with-hold');

    const notices = (await messagesTo(member.phone)).filter((m) => m.purpose === 'reset_notice');
    assert.equal(notices.length, 1, 'one reset notice to the phone on file');
    assert.ok(!notices[0].text.includes(NEW_TRANSACTION_PASSWORD), 'the notice carries no password');

    assert.deepEqual(serverErrors, [], 'no page answered with a server error');
  } finally {
    await context.close();
  }
});
