// The pages themselves: development banner, language switch, keyboard use, labels,
// and password fields that are never pre-filled.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  MEMBERS, TEST_TIMEOUT, ZH, assertHeading, assertLabelled, assertPasswordsEmpty,
  assertTranslated, captchaAnswer, fieldErrors, launch, navigating, newCode, openPage,
  outboxIds, pathOf, shooter, solveCaptcha, summaryErrors,
} from './helpers.js';

/** A valid resident ID number (correct check character) that no demo member has. */
function residentId(first17) {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((acc, digit, i) => acc + Number(digit) * weights[i], 0);
  return first17 + '10X98765432'[sum % 11];
}
const NOBODY_ID = residentId('11010119800101001');

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Presses Tab until the element with `id` has the focus; fails after `max` presses. */
async function tabTo(page, id, max = 25) {
  const path = [];
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement;
      return el ? `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}` : '';
    });
    path.push(focused);
    if (focused.endsWith(`#${id}`)) return path;
  }
  assert.fail(`#${id} not reached with Tab; focus went ${path.join(' → ')}`);
}

test('the development banner is on every page', { timeout: TEST_TIMEOUT }, async () => {
  const { context, page, serverErrors } = await openPage(browser);
  const shot = shooter('pages-banner');
  try {
    for (const path of ['/login', '/register', '/dev/outbox']) {
      await page.goto(path);
      const banner = page.getByRole('note').filter({ hasText: ZH.devBanner });
      assert.ok(await banner.isVisible(), `no visible dev banner on ${path}`);
      assert.ok(await banner.getByRole('link', { name: '查看开发发件箱' }).isVisible(), `no outbox link in the banner on ${path}`);
      await assertTranslated(page);
      await shot(page, path.replaceAll('/', '_').replace(/^_/, ''));
    }
    assert.deepEqual(serverErrors, []);
  } finally {
    await context.close();
  }
});

test('the language switch shows the pages in English and back in Chinese', { timeout: TEST_TIMEOUT }, async () => {
  const { context, page, serverErrors } = await openPage(browser);
  const shot = shooter('pages-language');
  try {
    await page.goto('/login');
    assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
    await assertHeading(page, ZH.loginTitle);

    await navigating(page, () => page.getByRole('button', { name: 'English', exact: true }).click());
    assert.equal(pathOf(page), '/login', 'the switch returns to the same page');
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    await assertHeading(page, 'Log in');
    for (const label of ['Document type', 'Login password', 'Image code']) {
      assert.equal(await page.getByLabel(label, { exact: true }).count(), 1, `English label "${label}"`);
    }
    assert.equal(await page.getByRole('textbox', { name: 'Document number', exact: true }).count(), 1);
    assert.equal(await page.getByRole('textbox', { name: 'Fund account number', exact: true }).count(), 1);
    assert.ok(await page.getByRole('button', { name: 'Log in', exact: true }).isVisible());
    assert.ok(await page.getByText('Development mode: text messages are not really sent', { exact: false }).isVisible());
    await assertTranslated(page);
    await shot(page, 'login-en');

    // A refusal is in English too.
    await page.getByRole('textbox', { name: 'Document number', exact: true }).fill(NOBODY_ID);
    await page.getByLabel('Login password', { exact: true }).fill('Wrong2026pass');
    await solveCaptcha(page, 'Image code');
    await navigating(page, () => page.getByRole('button', { name: 'Log in', exact: true }).click());
    assert.deepEqual(await summaryErrors(page), ['Wrong document number, account number or password.']);
    assert.equal(await page.locator('#error-summary-title').innerText(), 'Please correct the following');
    await shot(page, 'login-en-refused');

    // The choice is remembered on the next page.
    await page.goto('/register');
    await assertHeading(page, 'Register for online services');
    for (const label of ['Name', 'Document type', 'Document number', 'Mobile number on file', 'Image code']) {
      assert.equal(await page.getByLabel(label, { exact: true }).count(), 1, `English label "${label}"`);
    }
    await assertTranslated(page);
    await shot(page, 'register-en');

    await navigating(page, () => page.getByRole('button', { name: '中文', exact: true }).click());
    assert.equal(pathOf(page), '/register');
    assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
    await assertHeading(page, ZH.registerTitle);
    assert.equal(await page.getByLabel('姓名', { exact: true }).count(), 1);
    await shot(page, 'register-zh-again');
    assert.deepEqual(serverErrors, []);
  } finally {
    await context.close();
  }
});

test('a browser that prefers English gets English without the switch', { timeout: TEST_TIMEOUT }, async () => {
  const { context, page } = await openPage(browser, { locale: 'en-US' });
  try {
    await page.goto('/login');
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    await assertHeading(page, 'Log in');
  } finally {
    await context.close();
  }
});

test('the login form works with the keyboard alone', { timeout: TEST_TIMEOUT }, async () => {
  const { context, page, serverErrors } = await openPage(browser);
  const shot = shooter('pages-keyboard');
  try {
    await page.goto('/login');
    await assertHeading(page, ZH.loginTitle);

    // The first Tab reaches the skip link, which leads to the main content.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('href')), '#main');

    await tabTo(page, 'id_number');
    await page.keyboard.type(NOBODY_ID);
    await tabTo(page, 'password');
    await page.keyboard.type('Wrong2026pass');
    const answer = await captchaAnswer(page);
    await tabTo(page, 'captcha_answer');
    await page.keyboard.type(answer);
    await shot(page, 'filled-by-keyboard');

    await navigating(page, () => page.keyboard.press('Enter'));
    assert.equal(pathOf(page), '/login');
    await assertHeading(page, ZH.loginTitle);
    assert.deepEqual(await summaryErrors(page), [ZH.invalid], 'the generic login error');
    assert.ok(await page.getByRole('alert').isVisible(), 'the error summary is announced');
    // A full document number never goes out in a page, so it is not put back.
    assert.equal(await page.getByLabel('证件号码', { exact: true }).inputValue(), '', 'the ID number is not echoed');
    assert.ok(!(await page.content()).includes(NOBODY_ID), 'the ID number is not in the page');
    await assertPasswordsEmpty(page);
    await shot(page, 'refused');
    assert.deepEqual(serverErrors, []);
  } finally {
    await context.close();
  }
});

test('every visible input has a label, and no password field is ever pre-filled', { timeout: TEST_TIMEOUT }, async () => {
  const { context, page, serverErrors } = await openPage(browser);
  const shot = shooter('pages-labels');
  // A member no other test registers; this test stops before the last step.
  const member = MEMBERS.wangwu;
  try {
    await page.goto('/login');
    const login = await assertLabelled(page);
    assert.deepEqual(Object.keys(login).sort(), ['account_no', 'by_account', 'by_document', 'captcha_answer', 'id_number', 'id_type', 'password']);
    assert.equal(await page.locator('#password').getAttribute('autocomplete'), 'current-password');
    assert.equal(await page.locator('#id_number').getAttribute('autocomplete'), 'username');

    // An empty password is stopped by the browser (the field is required).
    await page.getByLabel('证件号码', { exact: true }).fill(NOBODY_ID);
    assert.equal(await page.getByLabel('登录密码', { exact: true }).evaluate((e) => e.validity.valueMissing), true);

    // Wrong captcha with a password typed: the password is not echoed back, and the
    // message is linked to its field.
    await page.getByLabel('登录密码', { exact: true }).fill('Wrong2026pass');
    await page.getByLabel('图形验证码', { exact: true }).fill('nope');
    await navigating(page, () => page.getByRole('button', { name: '登录', exact: true }).click());
    assert.deepEqual(await fieldErrors(page, 'captcha_answer'), ['图形验证码错误，请输入新图片中的字符。']);
    assert.equal(await page.locator('#captcha_answer').getAttribute('aria-invalid'), 'true');
    await assertLabelled(page);
    assert.equal(await page.getByLabel('证件号码', { exact: true }).inputValue(), '', 'the ID number is not echoed');
    await assertPasswordsEmpty(page);
    assert.ok(!(await page.content()).includes('Wrong2026pass'), 'the typed password is not in the page');
    await shot(page, 'login-captcha-refused');

    await page.goto('/register');
    const identify = await assertLabelled(page);
    assert.deepEqual(Object.keys(identify).sort(), ['captcha_answer', 'id_number', 'id_type', 'name', 'phone']);
    await page.getByLabel('姓名', { exact: true }).fill(member.name);
    await page.getByLabel('证件号码', { exact: true }).fill(member.id);
    await page.getByLabel('中心留存手机号', { exact: true }).fill(member.phone);
    await solveCaptcha(page);
    const seen = await outboxIds();
    await navigating(page, () => page.getByRole('button', { name: '获取短信验证码', exact: true }).click());
    await assertHeading(page, ZH.codeTitle);
    const codePage = await assertLabelled(page);
    assert.deepEqual(Object.keys(codePage), ['code']);
    assert.equal(await page.locator('#code').getAttribute('autocomplete'), 'one-time-code');

    const { code } = await newCode(member.phone, seen);
    await page.getByLabel('短信验证码', { exact: true }).fill(code);
    await navigating(page, () => page.getByRole('button', { name: '下一步', exact: true }).click());
    await assertHeading(page, ZH.passwordsTitle);
    const passwords = await assertLabelled(page);
    assert.deepEqual(Object.keys(passwords).sort(), ['login_password', 'login_password_again', 'transaction_password', 'transaction_password_again']);
    for (const id of Object.keys(passwords)) {
      assert.equal(await page.locator(`#${id}`).getAttribute('autocomplete'), 'new-password', `#${id}`);
    }
    assert.equal(await assertPasswordsEmpty(page), 4);

    // Both pairs typed differently: both reasons, every password field empty again.
    await page.getByLabel('设置登录密码', { exact: true }).fill('Cedar2026hill');
    await page.getByLabel('再次输入登录密码', { exact: true }).fill('Cedar2026hall');
    await page.getByLabel('设置交易密码', { exact: true }).fill('135792');
    await page.getByLabel('再次输入交易密码', { exact: true }).fill('135790');
    await navigating(page, () => page.getByRole('button', { name: '完成注册', exact: true }).click());
    await assertHeading(page, ZH.passwordsTitle);
    assert.deepEqual(await fieldErrors(page, 'login_password_again'), ['两次输入的登录密码不一致。']);
    assert.deepEqual(await fieldErrors(page, 'transaction_password_again'), ['两次输入的交易密码不一致。']);
    await assertLabelled(page);
    assert.equal(await assertPasswordsEmpty(page), 4);
    const html = await page.content();
    for (const typed of ['Cedar2026hill', 'Cedar2026hall', '135792', '135790']) {
      assert.ok(!html.includes(typed), `the typed password ${typed} is not in the page`);
    }
    await shot(page, 'register-passwords-mismatch');
    assert.deepEqual(serverErrors, []);
  } finally {
    await context.close();
  }
});
