// Registration of a demo member through the pages, then login with the document
// number, the masked home page, logout, and the home page closed again.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  MEMBERS, TEST_TIMEOUT, ZH, assertHeading, assertPasswordsEmpty, assertTranslated, chinaClock,
  launch, loginWithDocument, messagesTo, navigating, openPage, pathOf, register, shooter,
} from './helpers.js';

const member = MEMBERS.zhangsan;
const LOGIN_PASSWORD = 'Lily2026pass';
const TRANSACTION_PASSWORD = '135792';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('a demo member registers, logs in, sees the masked home page and logs out', { timeout: TEST_TIMEOUT }, async () => {
  const { context, page, serverErrors } = await openPage(browser);
  const shot = shooter('registration');
  try {
    await register(page, member, {
      loginPassword: LOGIN_PASSWORD,
      transactionPassword: TRANSACTION_PASSWORD,
      weakLoginPassword: '12345678',
      weakReason: ZH.commonPassword,
      shot,
    });
    await assertTranslated(page);

    // The phone on file was told (the code, then the registration notice).
    const purposes = (await messagesTo(member.phone)).map((m) => m.purpose);
    assert.ok(purposes.includes('registration_done'), `no registration notice in ${JSON.stringify(purposes)}`);

    // Registering does not log in: the home page still sends to the login page.
    await page.goto('/home');
    assert.equal(pathOf(page), '/login', 'registration must not open a session');

    // "前往登录" on the success page would lead here too; log in with the ID number.
    const started = new Date();
    await loginWithDocument(page, member, LOGIN_PASSWORD);
    assert.equal(pathOf(page), '/home', `login did not reach the home page: ${await page.locator('main').innerText()}`);
    await assertHeading(page, ZH.homeTitle);
    const main = page.locator('main');
    const text = await main.innerText();
    assert.match(text, new RegExp(`您好，${member.name}。`));
    assert.ok(text.includes(member.maskedId), `the masked ID ${member.maskedId} is not shown:\n${text}`);
    assert.ok(text.includes(member.maskedPhone), `the masked phone ${member.maskedPhone} is not shown:\n${text}`);
    assert.ok(text.includes(member.account), 'the account number is shown');
    assert.ok(text.includes('注册用户'), 'the status is "registered"');
    assert.ok(text.includes(ZH.firstLogin), 'the first login says so');
    const html = await page.content();
    assert.ok(!html.includes(member.id), 'the full ID number must never be on the page');
    assert.ok(!html.includes(member.phone), 'the full phone number must never be on the page');
    await assertTranslated(page);
    await shot(page, 'home-first-login');

    // Personal pages are never cached.
    const home = await page.goto('/home');
    assert.equal(home.headers()['cache-control'], 'no-store');

    // Log out: back on the login page, and the home page is closed.
    await navigating(page, () => page.getByRole('button', { name: '退出登录', exact: true }).click());
    assert.equal(pathOf(page), '/login');
    await assertHeading(page, ZH.loginTitle);
    await assertPasswordsEmpty(page);
    await shot(page, 'logged-out');
    await page.goto('/home');
    assert.equal(pathOf(page), '/login', '/home after logout must redirect to the login page');
    await assertHeading(page, ZH.loginTitle);

    // A second login shows the first one as "last login" (China time, this address
    // with its last octet masked, as the sessions page shows it).
    await loginWithDocument(page, member, LOGIN_PASSWORD);
    assert.equal(pathOf(page), '/home');
    const last = await page.locator('section[aria-labelledby=last-login-title]').innerText();
    const { date, time } = chinaClock(started);
    const { time: later } = chinaClock(new Date());
    assert.ok(last.includes(date) && (last.includes(time) || last.includes(later)), `last login time not shown as ${date} ${time}:\n${last}`);
    assert.ok(last.includes('127.0.0.*'), `last login place not shown:\n${last}`);
    assert.ok(!last.includes('127.0.0.1'), `the full address is shown:\n${last}`);
    await shot(page, 'home-second-login');
    await navigating(page, () => page.getByRole('button', { name: '退出登录', exact: true }).click());
    await page.goto('/home');
    assert.equal(pathOf(page), '/login');
    await shot(page, 'home-redirects-to-login');

    assert.deepEqual(serverErrors, [], 'no page answered with a server error');
  } finally {
    await context.close();
  }
});
