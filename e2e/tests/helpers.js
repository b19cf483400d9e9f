// Shared helpers of the browser tests (not a test file itself: node --test only runs
// `*.test.js`). The server is started by ../run.sh, which passes its address in
// FUNDPASS_URL and a folder for screenshots in FUNDPASS_ARTIFACTS.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  createHash, createHmac, createPublicKey, generateKeyPairSync, randomUUID, sign as signBytes,
  verify as verifyBytes,
} from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

/** Base URL of the server under test, without a trailing slash. */
export const BASE = (() => {
  const url = process.env.FUNDPASS_URL;
  if (!url) {
    throw new Error('FUNDPASS_URL is not set: run the tests through e2e/run.sh');
  }
  return url.replace(/\/+$/, '');
})();

/** Where screenshots go. */
export const ARTIFACTS = resolve(process.env.FUNDPASS_ARTIFACTS || 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

/** Upper bound of any single step (a click, a page load, a fetch). */
export const STEP_TIMEOUT = 30_000;

/** Upper bound of a whole test. */
export const TEST_TIMEOUT = 180_000;

/** The demo members (crates/fundpass/src/demo.rs). */
export const MEMBERS = {
  zhangsan: { account: '100000000001', name: '张三', idType: 'resident_id', id: '110105199003071239', phone: '13800000001', maskedId: '110105********1239', maskedPhone: '138****0001' },
  lisi: { account: '100000000002', name: '李四', idType: 'resident_id', id: '310115198511224567', phone: '13900000002', maskedId: '310115********4567', maskedPhone: '139****0002' },
  wangwu: { account: '100000000003', name: '王五', idType: 'resident_id', id: '44030519920615789X', phone: '15000000003', maskedId: '440305********789X', maskedPhone: '150****0003' },
  zhaoliu: { account: '100000000004', name: '赵六', idType: 'resident_id', id: '510107197809012340', phone: '18600000004', maskedId: '510107********2340', maskedPhone: '186****0004' },
  chenxiaohong: { account: '100000000005', name: '陈小红', idType: 'resident_id', id: '330106199502285677', phone: '17700000005', maskedId: '330106********5677', maskedPhone: '177****0005' },
  maria: { account: '100000000006', name: 'Maria Lopez', idType: 'passport', id: 'E12345678', phone: '13600000006', maskedId: 'E1*****78', maskedPhone: '136****0006' },
};

/** Texts of messages/zh-CN.toml the tests look for. */
export const ZH = {
  devBanner: '开发模式：短信不会真正发送，验证码可在开发发件箱中查看。请勿用于真实业务。',
  registerTitle: '个人用户注册',
  codeTitle: '短信验证',
  passwordsTitle: '设置密码',
  doneTitle: '注册成功',
  done: '注册成功，请使用新密码登录。',
  neutral: '若您填写的信息与中心记录一致，验证码已发送至中心留存手机号。',
  loginTitle: '登录',
  homeTitle: '我的账户',
  invalid: '证件号码/账号或密码错误。',
  errorSummary: '请修改以下问题',
  commonPassword: '该密码过于常见，容易被猜到，请换一个。',
  firstLogin: '这是您首次登录。',
  // login.locked = "连续输入错误次数过多，请于 {time} 后再试。"
  lockedPattern: /连续输入错误次数过多，请于 ((?:\d{4}-\d{2}-\d{2} )?\d{2}:\d{2}) 后再试。/,
};

/** Message keys that leaked into a page instead of their text look like this. */
export const UNTRANSLATED_KEY =
  /\b(?:site|layout|lang|errors?|captcha|field|identify|register|passwords|login|home|status|dev|id_number|phone|staff|console|ticket)\.[a-z_]+(?:\.[a-z_]+)*\b/;

const LAUNCH_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic',
];

/** Debian's Chromium; never a downloaded browser. */
export async function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: LAUNCH_ARGS,
    timeout: STEP_TIMEOUT,
  });
}

/**
 * A fresh browser context (own cookies) and page. `locale` sets Accept-Language;
 * it is Chinese unless a test asks otherwise. Every response of 500 or more is
 * recorded in `serverErrors` so a test can assert there were none.
 */
export async function openPage(browser, { locale = 'zh-CN', proxy } = {}) {
  const context = await browser.newContext({
    baseURL: BASE, locale, viewport: { width: 1000, height: 900 }, ...(proxy ? { proxy } : {}),
  });
  context.setDefaultTimeout(STEP_TIMEOUT);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT);
  const page = await context.newPage();
  const serverErrors = [];
  page.on('response', (r) => {
    if (r.status() >= 500) serverErrors.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
  return { context, page, serverErrors };
}

/** Saves a full-page screenshot as `<prefix>-<nn>-<step>.png` and returns its path. */
export function shooter(prefix) {
  let n = 0;
  return async (page, step) => {
    n += 1;
    const path = join(ARTIFACTS, `${prefix}-${String(n).padStart(2, '0')}-${step}.png`);
    await page.screenshot({ path, fullPage: true, timeout: STEP_TIMEOUT });
    return path;
  };
}

/** GET a JSON document of the server (dev helpers), failing on any status but 200. */
export async function getJson(path) {
  const response = await fetch(`${BASE}${path}`, { signal: AbortSignal.timeout(STEP_TIMEOUT) });
  const body = await response.text();
  assert.equal(response.status, 200, `GET ${path} answered ${response.status}: ${body}`);
  return JSON.parse(body);
}

/** Ids of the messages in the dev outbox now. */
export async function outboxIds() {
  const messages = await getJson('/dev/outbox.json');
  assert.ok(Array.isArray(messages), 'the outbox is a JSON array');
  return new Set(messages.map((m) => m.id));
}

/**
 * The code of the newest `purpose` message to `phone` that is not in `seen`
 * (waits a little for it, since it is written with the step that sends it).
 */
export async function newCode(phone, seen, purpose = 'registration_code') {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const messages = await getJson('/dev/outbox.json');
    const fresh = messages
      .filter((m) => m.to === phone && m.purpose === purpose && !seen.has(m.id))
      .sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
    if (fresh.length > 0) {
      const match = /(?<!\d)(\d{6})(?!\d)/.exec(fresh[0].text);
      assert.ok(match, `no 6-digit code in the outbox text ${JSON.stringify(fresh[0].text)}`);
      return { code: match[1], message: fresh[0] };
    }
    assert.ok(Date.now() < deadline, `no new ${purpose} message to ${phone} in the outbox`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Newest messages of one phone (for assertions on what else was sent). */
export async function messagesTo(phone) {
  const messages = await getJson('/dev/outbox.json');
  return messages.filter((m) => m.to === phone);
}

/** The answer of the captcha shown on the page, from the dev helper. */
export async function captchaAnswer(page) {
  const id = await page.locator('input[type=hidden][name=captcha_id]').inputValue();
  assert.ok(id, 'the form carries a captcha id');
  const { answer } = await getJson(`/dev/captcha/${encodeURIComponent(id)}`);
  assert.equal(typeof answer, 'string');
  return answer;
}

/** Types the captcha answer into the field labelled `label`. */
export async function solveCaptcha(page, label = '图形验证码') {
  const answer = await captchaAnswer(page);
  await page.getByLabel(label, { exact: true }).fill(answer);
}

/**
 * Runs `action` (a click, a key press) that submits a form or follows a link, and
 * waits until the next document has loaded. Form posts here answer either with a
 * page at the same address or with a 303, so the address alone cannot tell.
 */
export async function navigating(page, action) {
  const committed = page.waitForEvent('framenavigated', {
    predicate: (frame) => frame === page.mainFrame(),
    timeout: STEP_TIMEOUT,
  });
  await action();
  await committed;
  await page.waitForLoadState('load');
  // No test here expects a refused form (403) or a server error: say so plainly.
  const status = await page.evaluate(() => performance.getEntriesByType('navigation')[0]?.responseStatus ?? 0);
  if (status === 403 || status >= 500) {
    const text = (await page.locator('body').innerText()).replace(/\s+/g, ' ').trim();
    assert.fail(`the form was answered with HTTP ${status} at ${page.url()} (see server.log): ${text}`);
  }
}

/** The page's `<h1>` text. */
export async function heading(page) {
  return (await page.locator('main h1').innerText()).trim();
}

/** Asserts the page's `<h1>` is `expected`, with the visible messages when not. */
export async function assertHeading(page, expected) {
  const actual = await heading(page);
  if (actual !== expected) {
    const text = await page.locator('main').innerText();
    assert.fail(`expected the page "${expected}", got "${actual}" at ${page.url()}:\n${text}`);
  }
}

/** Path of the page's address. */
export function pathOf(page) {
  return new URL(page.url()).pathname;
}

/** The texts of the error summary at the top of the page. */
export async function summaryErrors(page) {
  const summary = page.locator('.error-summary[role=alert]');
  if ((await summary.count()) === 0) return [];
  return (await summary.locator('li').allInnerTexts()).map((t) => t.trim());
}

/** The messages shown next to the field with this id. */
export async function fieldErrors(page, field) {
  return (await page.locator(`#${field}-error li`).allInnerTexts()).map((t) => t.trim());
}

/**
 * Checks every visible form control has a non-empty `<label>` and that the label
 * finds it back (Playwright's `getByLabel`), and that every `aria-describedby` id
 * exists. Returns the labels, by control id.
 */
export async function assertLabelled(page) {
  const controls = await page.evaluate(() => {
    const visible = (el) => {
      const style = getComputedStyle(el);
      const box = el.getBoundingClientRect();
      return style.display !== 'none' && style.visibility !== 'hidden' && box.width > 0 && box.height > 0;
    };
    return [...document.querySelectorAll('input, select, textarea')]
      .filter((el) => el.type !== 'hidden' && visible(el))
      .map((el) => ({
        id: el.id,
        name: el.name,
        type: el.type,
        labels: [...(el.labels || [])].map((l) => l.textContent.trim()),
        describedBy: (el.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean),
        missing: (el.getAttribute('aria-describedby') || '').split(/\s+/).filter((ref) => ref && !document.getElementById(ref)),
      }));
  });
  assert.ok(controls.length > 0, `no visible form controls on ${page.url()}`);
  const labels = {};
  for (const c of controls) {
    assert.ok(c.id, `control name=${c.name} has no id to bind a label to`);
    assert.ok(c.labels.length > 0 && c.labels[0] !== '', `control #${c.id} (name=${c.name}) has no label on ${page.url()}`);
    assert.deepEqual(c.missing, [], `control #${c.id} is described by missing ids`);
    const found = await page.getByLabel(c.labels[0], { exact: true }).evaluateAll((els) => els.map((e) => e.id));
    assert.ok(found.includes(c.id), `getByLabel("${c.labels[0]}") does not find #${c.id}`);
    labels[c.id] = c.labels[0];
  }
  return labels;
}

/** Asserts every password field is empty, both its value and its markup. */
export async function assertPasswordsEmpty(page) {
  const fields = await page.locator('input[type=password]').evaluateAll((els) =>
    els.map((e) => ({ id: e.id, value: e.value, attr: e.getAttribute('value') })),
  );
  assert.ok(fields.length > 0, 'the page has password fields');
  for (const f of fields) {
    assert.equal(f.value, '', `password field #${f.id} is pre-filled`);
    assert.equal(f.attr, null, `password field #${f.id} has a value attribute`);
  }
  return fields.length;
}

/** Asserts no message key leaked into the visible text. */
export async function assertTranslated(page) {
  const text = await page.locator('body').innerText();
  const leaked = UNTRANSLATED_KEY.exec(text);
  assert.equal(leaked, null, `untranslated message key "${leaked?.[0]}" on ${page.url()}`);
}

/**
 * Registers `member` through the pages: identify (with captcha) → code from the dev
 * outbox → passwords → the success page. With `weakLoginPassword`, first submits
 * that password and checks it is refused with `weakReason` next to the field.
 */
export async function register(page, member, { loginPassword, transactionPassword, weakLoginPassword, weakReason, shot }) {
  await page.goto('/register');
  await assertHeading(page, ZH.registerTitle);
  await page.getByLabel('姓名', { exact: true }).fill(member.name);
  await page.getByLabel('证件类型', { exact: true }).selectOption(member.idType);
  await page.getByLabel('证件号码', { exact: true }).fill(member.id);
  await page.getByLabel('中心留存手机号', { exact: true }).fill(member.phone);
  await solveCaptcha(page);
  await shot?.(page, 'register-identify-filled');

  const seen = await outboxIds();
  await navigating(page, () => page.getByRole('button', { name: '获取短信验证码', exact: true }).click());
  await assertHeading(page, ZH.codeTitle);
  assert.equal((await page.locator('.notice[role=status]').innerText()).trim(), ZH.neutral);
  await shot?.(page, 'register-code-page');

  const { code } = await newCode(member.phone, seen);
  await page.getByLabel('短信验证码', { exact: true }).fill(code);
  await navigating(page, () => page.getByRole('button', { name: '下一步', exact: true }).click());
  await assertHeading(page, ZH.passwordsTitle);
  await shot?.(page, 'register-passwords-page');

  const fillPasswords = async (login, transaction) => {
    await page.getByLabel('设置登录密码', { exact: true }).fill(login);
    await page.getByLabel('再次输入登录密码', { exact: true }).fill(login);
    await page.getByLabel('设置交易密码', { exact: true }).fill(transaction);
    await page.getByLabel('再次输入交易密码', { exact: true }).fill(transaction);
  };
  const finish = () => navigating(page, () => page.getByRole('button', { name: '完成注册', exact: true }).click());

  if (weakLoginPassword) {
    await fillPasswords(weakLoginPassword, transactionPassword);
    await finish();
    await assertHeading(page, ZH.passwordsTitle);
    const reasons = await fieldErrors(page, 'login_password');
    assert.ok(reasons.includes(weakReason), `expected the reason "${weakReason}", got ${JSON.stringify(reasons)}`);
    assert.equal(await page.locator('#login_password').getAttribute('aria-invalid'), 'true');
    const described = (await page.locator('#login_password').getAttribute('aria-describedby')) ?? '';
    assert.ok(described.split(' ').includes('login_password-error'), 'the reason is linked to the field');
    assert.deepEqual(await fieldErrors(page, 'transaction_password'), [], 'the good transaction password is not refused');
    assert.ok((await summaryErrors(page)).includes(weakReason), 'the reason is in the error summary');
    assert.equal(await assertPasswordsEmpty(page), 4);
    await shot?.(page, 'register-weak-password-refused');
  }

  await fillPasswords(loginPassword, transactionPassword);
  await finish();
  await assertHeading(page, ZH.doneTitle);
  assert.equal((await page.locator('.notice[role=status]').innerText()).trim(), ZH.done);
  await shot?.(page, 'register-done');
}

/** Fills and submits the login form with a document number; returns after the next page loaded. */
export async function loginWithDocument(page, member, password) {
  if (pathOf(page) !== '/login') {
    await page.goto('/login');
  }
  await assertHeading(page, ZH.loginTitle);
  await page.getByLabel('证件号码登录', { exact: true }).check();
  await page.getByLabel('证件类型', { exact: true }).selectOption(member.idType);
  await page.getByLabel('证件号码', { exact: true }).fill(member.id);
  await page.getByLabel('登录密码', { exact: true }).fill(password);
  await solveCaptcha(page);
  await navigating(page, () => page.getByRole('button', { name: '登录', exact: true }).click());
}

/** The current hour and minute in China time (UTC+8), shifted by `minutes`. */
export function chinaClock(date, minutes = 0) {
  const t = new Date(date.getTime() + minutes * 60_000 + 8 * 3_600_000);
  const pad = (n) => String(n).padStart(2, '0');
  return {
    date: `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`,
    time: `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}`,
  };
}

// ---------------------------------------------------------------------------------
// Password recovery (recovery_*.test.js): the three scenarios of the seed text.

/** Texts of messages/zh-CN.toml the recovery tests look for. */
export const ZH_RECOVERY = {
  forgotLink: '忘记密码',
  forgotLoginTitle: '找回登录密码',
  forgotTransactionTitle: '交易密码找回',
  securityTitle: '辅助功能',
  securityLink: '交易密码找回、安全问题和账户保护期',
  doneTitle: '密码已重置',
  loginDone: '登录密码已重置。',
  transactionDone: '交易密码已重置。',
  loggedOut: '为保护您的账户安全，您在所有浏览器和手机应用上的登录均已退出（包括本浏览器），请重新登录。通知短信已发送至中心留存手机号。',
  // recovery.not_verified = "您填写的信息未能通过核验，还可尝试 {remaining} 次。"
  notVerifiedPattern: /^您填写的信息未能通过核验，还可尝试 (\d+) 次。$/,
  // forgot_transaction.wrong_phone = "该号码与中心留存的手机号不一致，还可尝试 {remaining} 次。"
  wrongPhonePattern: /^该号码与中心留存的手机号不一致，还可尝试 (\d+) 次。$/,
  codeSent: (maskedPhone) => `验证码已发送至 ${maskedPhone}。`,
  loginMismatch: '两次输入的登录密码不一致。',
  holdsTitle: '账户保护期',
  noHolds: '您的账户当前不在保护期内。',
  loginReset: '登录密码重置',
  transactionReset: '交易密码重置',
  channelWeb: '个人网上业务平台',
  channelApp: '手机 APP',
};

/** Hours a reset puts the account on hold (portal.hold_hours_web / _app). */
export const HOLD_HOURS = 24;

/** One code per phone per this long (portal.code_resend_seconds). */
export const SMS_COOLDOWN_SECONDS = 60;

/** Message keys of the recovery pages that leaked into a page instead of their text. */
export const UNTRANSLATED_RECOVERY_KEY =
  /\b(?:recovery|forgot_login|forgot_transaction|security|questions|hold|channel)\.[a-z_]+\b/;

/** Like `assertTranslated`, also for the keys of the recovery pages. */
export async function assertRecoveryTranslated(page) {
  await assertTranslated(page);
  const text = await page.locator('body').innerText();
  const leaked = UNTRANSLATED_RECOVERY_KEY.exec(text);
  assert.equal(leaked, null, `untranslated message key "${leaked?.[0]}" on ${page.url()}`);
}

/**
 * Waits until `phone` may be sent a code again: the newest code message to it (any
 * `*_code` purpose) is `SMS_COOLDOWN_SECONDS` old. Registering sends a code, so a
 * recovery code right after it would be refused as too frequent.
 */
export async function waitForSmsCooldown(phone) {
  const codes = (await messagesTo(phone)).filter((m) => m.purpose.endsWith('_code'));
  if (codes.length === 0) return 0;
  const newest = Math.max(...codes.map((m) => Date.parse(m.created_at)));
  const wait = newest + (SMS_COOLDOWN_SECONDS + 1) * 1000 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  return Math.max(wait, 0);
}

/** Presses Tab until the element with `id` has the focus; fails after `max` presses. */
export async function tabTo(page, id, max = 25) {
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

/** Fills the identify step of either recovery (name, document, captcha); does not submit. */
export async function fillRecoveryIdentify(page, member, { name = member.name } = {}) {
  await page.getByLabel('姓名', { exact: true }).fill(name);
  await page.getByLabel('证件类型', { exact: true }).selectOption(member.idType);
  await page.getByLabel('证件号码', { exact: true }).fill(member.id);
  await solveCaptcha(page);
}

/** The rows of the holds table of the page (home page or security menu). */
export async function holdRows(page) {
  const section = page.locator('section[aria-labelledby=holds-title]');
  assert.equal(await section.count(), 1, `no holds section on ${page.url()}`);
  return section.locator('table.holds tbody tr').evaluateAll((rows) =>
    rows.map((row) => {
      const [what, at, channel, until] = [...row.cells].map((c) => c.textContent.trim());
      return { what, at, channel, until };
    }),
  );
}

/**
 * Asserts the holds of the page include one for `what` through `channel`, placed
 * between `from` and now (China time, to the minute) and lasting `HOLD_HOURS`.
 */
export async function assertHold(page, { what, channel, from }) {
  const rows = await holdRows(page);
  const row = rows.find((r) => r.what === what);
  assert.ok(row, `no hold "${what}" on ${page.url()}: ${JSON.stringify(rows)}`);
  assert.equal(row.channel, channel, `channel of the hold "${what}"`);
  const minute = (d) => { const { date, time } = chinaClock(d); return `${date} ${time}`; };
  assert.ok(row.at >= minute(from) && row.at <= minute(new Date()), `hold "${what}" placed at ${row.at}, not during the test`);
  const asUtc = (text) => Date.parse(`${text.replace(' ', 'T')}:00+08:00`);
  assert.equal(asUtc(row.until) - asUtc(row.at), HOLD_HOURS * 3_600_000, `hold "${what}" lasts ${HOLD_HOURS} hours: ${JSON.stringify(row)}`);
  return row;
}

/** The browser context's session cookie (the portal's `…fundpass_session`), if any. */
export async function sessionCookie(context) {
  return (await context.cookies(BASE)).find((c) => /fundpass_session$/.test(c.name));
}

/**
 * A JSON call to the app API through a Playwright `APIRequestContext`: `{status,
 * body, text}`. `token` goes in `Authorization: Bearer`.
 */
export async function api(requestContext, method, path, { data, token } = {}) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  const response = await requestContext.fetch(path, { method, data, headers, timeout: STEP_TIMEOUT });
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: the assertions show the text.
  }
  return { status: response.status(), body, text, headers: response.headers() };
}

/** Asserts an API answer has `status`, showing the body when not; returns the body. */
export function expectStatus(reply, status, what) {
  assert.equal(reply.status, status, `${what} answered ${reply.status}: ${reply.text}`);
  return reply.body;
}

// ---------------------------------------------------------------------------------
// Staff console (staff_*.test.js): staff accounts and members made with the command
// line, TOTP codes, and the console's login.

/** The fundpass binary run.sh built (`staff add`, `import`). */
export function fundpassBin() {
  const bin = process.env.FUNDPASS_BIN;
  if (!bin) throw new Error('FUNDPASS_BIN is not set: run the tests through e2e/run.sh');
  return bin;
}

/** The data folder of the server under test. */
export function fundpassDataDir() {
  const dir = process.env.FUNDPASS_DATA_DIR;
  if (!dir) throw new Error('FUNDPASS_DATA_DIR is not set: run the tests through e2e/run.sh');
  return dir;
}

/**
 * Runs `fundpass --data-dir DIR ARGS…` with `input` on standard input; resolves with
 * `{code, stdout, stderr}` (never rejects on a non-zero exit: the caller asserts).
 */
export function fundpassCli(args, input = '') {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(fundpassBin(), ['--data-dir', fundpassDataDir(), ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), STEP_TIMEOUT);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => { clearTimeout(timer); resolvePromise({ code, stdout, stderr }); });
    // A command that exits without reading (`--help`, a refused argument) closes its
    // end first: that is not an error of the test.
    child.stdin.on('error', (e) => { if (e.code !== 'EPIPE') reject(e); });
    child.stdin.end(input);
  });
}

/**
 * The administrator creates a staff account: `fundpass staff add …` with the initial
 * password (and, with `ownIdType`, the staff member's own document number) on
 * standard input, as a script would.
 */
export async function createStaff({ username, name, role, password, branchId = 'B0101', branchName = '市公积金中心营业部', ownIdType, ownIdNumber }) {
  const args = ['staff', 'add', '--username', username, '--name', name, '--role', role,
    '--branch-id', branchId, '--branch-name', branchName];
  let input = `${password}\n`;
  if (ownIdType) {
    args.push('--own-id-type', ownIdType);
    input += `${ownIdNumber}\n`;
  }
  const run = await fundpassCli(args, input);
  assert.equal(run.code, 0, `fundpass staff add ${username} failed (${run.code}): ${run.stderr}${run.stdout}`);
  assert.ok(!`${run.stdout}${run.stderr}`.includes(password), 'staff add never prints the password');
  return { username, name, role, password, branchId, branchName };
}

/** A valid resident ID number: the 17 digits given and their check character. */
export function residentId(first17) {
  assert.match(first17, /^\d{17}$/);
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((acc, digit, i) => acc + Number(digit) * weights[i], 0);
  return first17 + '10X98765432'[sum % 11];
}

/** `110105********1239` for an 18-character resident ID number. */
export function maskResidentId(id) {
  return `${id.slice(0, 6)}********${id.slice(-4)}`;
}

/** `138****0001`. */
export function maskPhone(phone) {
  return `${phone.slice(0, 3)}****${phone.slice(-4)}`;
}

/**
 * Adds members with `fundpass import` (a CSV file in a temporary folder), as the
 * fund's core system would; each member is `{account, name, idType, id, phone}`.
 */
export async function importMembers(members) {
  const dir = mkdtempSync(join(tmpdir(), 'fundpass-e2e-'));
  const file = join(dir, 'members.csv');
  const rows = members.map((m) => [m.account, m.name, m.idType, m.id, m.phone].join(','));
  writeFileSync(file, ['account_no,name,id_type,id_number,phone', ...rows, ''].join('\n'));
  try {
    const run = await fundpassCli(['import', '--quiet', file]);
    assert.equal(run.code, 0, `fundpass import failed (${run.code}): ${run.stderr}${run.stdout}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Seconds of one TOTP step. */
export const TOTP_STEP_SECONDS = 30;

/** The TOTP step of a moment (RFC 6238: Unix seconds / 30). */
export function totpStep(date = new Date()) {
  return Math.floor(date.getTime() / 1000 / TOTP_STEP_SECONDS);
}

/** The bytes of a base32 secret (RFC 4648; spaces, case and padding ignored). */
export function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of clean) {
    const v = alphabet.indexOf(c);
    assert.ok(v >= 0, `"${c}" is not a base32 character`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The 6-digit TOTP code (HMAC-SHA1, 30 s) of a base32 secret at a step. */
export function totpCode(secret, step = totpStep()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = ((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) | mac[offset + 3];
  return String(binary % 1_000_000).padStart(6, '0');
}

/**
 * A code of a step after `lastStep` (a code is accepted once per step and account):
 * waits for the next step when the current one was used already. `{code, step}`.
 */
export async function freshTotp(secret, lastStep = -1) {
  for (;;) {
    const step = totpStep();
    if (step > lastStep) return { code: totpCode(secret, step), step };
    const next = (lastStep + 1) * TOTP_STEP_SECONDS * 1000;
    await new Promise((r) => setTimeout(r, Math.max(next - Date.now(), 0) + 200));
  }
}

/** Texts of messages/zh-CN.toml the console tests look for. */
export const ZH_STAFF = {
  loginTitle: '工作人员登录',
  mfaTitle: '第二重验证',
  enrolTitle: '设置身份验证器',
  homeTitle: '控制台',
  memberTitle: '缴存人',
  receiptTitle: '重置回执',
  caseTitle: '柜台业务',
  approvalsTitle: '待审批业务',
  checkTitle: '核验结果',
  invalid: '用户名或密码错误。',
  // staff.login.locked = "失败次数过多，账号已锁定至{time}。"
  lockedPattern: /^失败次数过多，账号已锁定至((?:\d{4}-\d{2}-\d{2} )?\d{2}:\d{2})。$/,
  ownAccount: '不能为本人的缴存账户办理业务，请由其他同事办理。',
  cardMismatch: '证件原件与记录不一致，请停止办理。',
  awaitingHint: '此业务为高风险业务，须经主管审批后方可出具凭证。',
  statusAwaiting: '等待主管审批',
  statusApproved: '已审批，尚未出具凭证',
  statusIssued: '已出具凭证',
  riskRecentReset: '30天内已重置过',
  noApprovals: '暂无待审批业务。',
  issue: '出具凭证',
  approve: '批准',
  reject: '驳回',
  checkPassed: '通过',
  checkFailed: '未通过',
  itemPass: '一致',
  itemFail: '不一致',
  send: '向预留手机号发送重置凭证',
  sent: (maskedPhone) => `重置凭证已发送至 ${maskedPhone}`,
  noQuestions: '该缴存人未设置安全问题。',
  pinpadTitle: '柜台密码键盘',
  ticketTitle: '凭证重置密码',
  ticketDone: '新密码已设置，凭证已失效。',
  ticketNotValid: '凭证与该证件不符、已使用或已过期。',
};

/** A reset ticket as shown and texted: `ABCD-EFGH-JKMN` (no 0, 1, I, L, O). */
export const TICKET_PATTERN = /^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$/;

/**
 * Message keys the console pages borrow from other pages (`UNTRANSLATED_KEY` covers
 * `staff.`, `console.` and `ticket.`), e.g. the security questions' texts.
 */
export const UNTRANSLATED_STAFF_KEY = /\b(?:question|recovery|security|questions|hold|channel)\.[a-z_]+(?:\.[a-z_]+)*\b/;

/** Like `assertTranslated`, also for the keys the console and ticket pages borrow. */
export async function assertStaffTranslated(page) {
  await assertTranslated(page);
  const text = await page.locator('body').innerText();
  const leaked = UNTRANSLATED_STAFF_KEY.exec(text);
  assert.equal(leaked, null, `untranslated message key "${leaked?.[0]}" on ${page.url()}`);
}

/**
 * Like `navigating`, for a step whose answer is expected to be refused with
 * `status` (403 for a console refusal): returns the status of the new document.
 */
export async function navigatingExpecting(page, action, status) {
  const committed = page.waitForEvent('framenavigated', {
    predicate: (frame) => frame === page.mainFrame(),
    timeout: STEP_TIMEOUT,
  });
  await action();
  await committed;
  await page.waitForLoadState('load');
  const actual = await page.evaluate(() => performance.getEntriesByType('navigation')[0]?.responseStatus ?? 0);
  assert.equal(actual, status, `expected HTTP ${status} at ${page.url()}`);
  return actual;
}

/** The password step of the console's login; returns on the next page. */
export async function staffPasswordStep(page, staff, password = staff.password) {
  await page.goto('/staff/login');
  await assertHeading(page, ZH_STAFF.loginTitle);
  await page.getByLabel('用户名', { exact: true }).fill(staff.username);
  await page.getByLabel('密码', { exact: true }).fill(password);
  await navigating(page, () => page.getByRole('button', { name: '继续', exact: true }).click());
}

/** Types a TOTP code on the second-factor page and submits it. */
export async function submitTotp(page, code) {
  await page.getByLabel('动态口令（6位数字）', { exact: true }).fill(code);
  await navigating(page, () => page.getByRole('button', { name: '登录', exact: true }).click());
}

/**
 * A first login: password, then the enrolment page (QR code and secret shown), a
 * code computed from the secret, the console. Returns `{secret, step}` for later
 * logins of the account. `shot` photographs the enrolment page.
 */
export async function staffFirstLogin(page, staff, { shot } = {}) {
  await staffPasswordStep(page, staff);
  assert.equal(pathOf(page), '/staff/mfa', `the password step did not lead to the second factor: ${await page.locator('main').innerText()}`);
  await assertHeading(page, ZH_STAFF.enrolTitle);
  const qr = page.locator('img.qr');
  assert.ok(await qr.isVisible(), 'the QR code is visible');
  const qrShown = await qr.evaluate((img) => img.complete && img.naturalWidth > 0 && img.src.startsWith('data:image/'));
  assert.ok(qrShown, 'the QR code image loaded');
  assert.ok((await qr.getAttribute('alt'))?.trim(), 'the QR code has a text alternative');
  const grouped = (await page.locator('#totp-secret').innerText()).trim();
  assert.match(grouped, /^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/, 'the secret is base32 in groups of four');
  const secret = grouped.replace(/\s+/g, '');
  assert.equal(base32Decode(secret).length, 20, 'a 160-bit secret');
  await assertLabelled(page);
  await assertStaffTranslated(page);
  await shot?.(page, `${staff.role}-enrolment`);
  const { code, step } = await freshTotp(secret);
  await submitTotp(page, code);
  assert.equal(pathOf(page), '/staff', `the code did not open the console: ${await page.locator('main').innerText()}`);
  await assertHeading(page, ZH_STAFF.homeTitle);
  const who = await page.locator('.staff-who').innerText();
  assert.ok(who.includes(staff.name) && who.includes(staff.username), `the header names the staff member: ${who}`);
  return { secret, step };
}

/** From the console's home: looks a member up by document; returns on the next page. */
export async function staffLookUp(page, member, { expectStatus: status } = {}) {
  if (pathOf(page) !== '/staff') await page.goto('/staff');
  await assertHeading(page, ZH_STAFF.homeTitle);
  await page.getByLabel('证件类型', { exact: true }).selectOption(member.idType);
  await page.getByLabel('证件号码', { exact: true }).fill(member.id);
  const click = () => page.getByRole('button', { name: '查找', exact: true }).click();
  if (status) {
    await navigatingExpecting(page, click, status);
  } else {
    await navigating(page, click);
  }
}

/**
 * A member's console page: `/staff/members/{id}-{tag}`, the tag bound to the staff
 * session (another session's address, or a bare id, is not found).
 */
export const MEMBER_PAGE_PATH = /^\/staff\/members\/\d+-[0-9a-f]+$/;

/** The browser context's staff cookie (`…fundpass_staff`), if any. */
export async function staffCookie(context) {
  return (await context.cookies(BASE)).find((c) => /fundpass_staff$/.test(c.name));
}

// ---------------------------------------------------------------------------------
// Business systems (payout_*.test.js): clients of the internal API registered with
// `fundpass clients add`, the client assertions they sign for an access token, and
// the receipts fundpass signs for them. Node's own crypto plays the business system.

/**
 * The URL client assertions name in `aud`: `<server.public_origin>/internal/oauth/token`.
 * run.sh sets no public_origin, so the server takes the address it listens on: BASE.
 */
export const TOKEN_ENDPOINT = `${BASE}/internal/oauth/token`;

/** The assertion type of RFC 7523 §2.2. */
export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** base64url (no padding) of JSON: a JWS header or claims. */
function base64urlJson(value) {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/**
 * The administrator registers a business system: a fresh Ed25519 key pair, its public
 * half written as a JWK file and given to `fundpass clients add`. Returns `{id,
 * privateKey, publicJwk}`; the private key never leaves the test.
 */
export async function registerClient({ id, scopes, description }) {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const publicJwk = publicKey.export({ format: 'jwk' });
  const dir = mkdtempSync(join(tmpdir(), 'fundpass-e2e-'));
  const file = join(dir, `${id}.jwk.json`);
  writeFileSync(file, JSON.stringify(publicJwk));
  const args = ['clients', 'add', '--name', id, '--scopes', scopes, '--public-key', file];
  if (description) args.push('--description', description);
  try {
    const run = await fundpassCli(args);
    assert.equal(run.code, 0, `fundpass clients add ${id} failed (${run.code}): ${run.stderr}${run.stdout}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { id, privateKey, publicJwk };
}

/**
 * A client assertion (RFC 7523, `private_key_jwt`): a JWT signed EdDSA with the
 * client's private key, `iss` = `sub` = the client id, `aud` the token endpoint, good
 * for `lifetimeSeconds`, with a random `jti`.
 */
export function clientAssertion(client, { audience = TOKEN_ENDPOINT, lifetimeSeconds = 120 } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const signingInput = `${base64urlJson({ alg: 'EdDSA', typ: 'JWT' })}.${base64urlJson({
    iss: client.id, sub: client.id, aud: audience, iat: now, exp: now + lifetimeSeconds, jti: randomUUID(),
  })}`;
  const signature = signBytes(null, Buffer.from(signingInput), client.privateKey);
  return `${signingInput}.${signature.toString('base64url')}`;
}

/**
 * An access token of the internal API (client credentials with a signed assertion),
 * through a Playwright `APIRequestContext`. Returns the token endpoint's JSON answer,
 * failing on any status but 200.
 */
export async function internalToken(requestContext, client) {
  const response = await requestContext.post('/internal/oauth/token', {
    form: {
      grant_type: 'client_credentials',
      client_assertion_type: JWT_BEARER,
      client_assertion: clientAssertion(client),
    },
    timeout: STEP_TIMEOUT,
  });
  const text = await response.text();
  assert.equal(response.status(), 200, `the token endpoint answered ${response.status()}: ${text}`);
  return JSON.parse(text);
}

/**
 * A JSON call to the internal API, like `api` with extra request headers
 * (`Idempotency-Key`): `{status, body, text, headers}`.
 */
export async function internalApi(requestContext, method, path, { data, token, headers = {} } = {}) {
  const all = { ...headers, ...(token ? { Authorization: `Bearer ${token}` } : {}) };
  const response = await requestContext.fetch(path, { method, data, headers: all, timeout: STEP_TIMEOUT });
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: the assertions show the text.
  }
  return { status: response.status(), body, text, headers: response.headers() };
}

/**
 * Checks a compact JWS signed EdDSA against the key of `keySet` (a JWK set) that its
 * `kid` names, as a business system would; returns `{header, claims}`. Fails when the
 * key is missing or the signature does not verify.
 */
export function verifyJws(compact, keySet) {
  const parts = compact.split('.');
  assert.equal(parts.length, 3, `not a compact JWS: ${compact}`);
  const [encodedHeader, encodedClaims, encodedSignature] = parts;
  const header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8'));
  assert.equal(header.alg, 'EdDSA', `JWS alg: ${JSON.stringify(header)}`);
  const jwk = keySet.keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, `no key "${header.kid}" in the key set ${JSON.stringify(keySet.keys.map((k) => k.kid))}`);
  const { kty, crv, x } = jwk;
  const key = createPublicKey({ key: { kty, crv, x }, format: 'jwk' });
  const good = verifyBytes(null, Buffer.from(`${encodedHeader}.${encodedClaims}`), key, Buffer.from(encodedSignature, 'base64url'));
  assert.ok(good, `the signature of the JWS does not verify under key "${header.kid}"`);
  return { header, claims: JSON.parse(Buffer.from(encodedClaims, 'base64url').toString('utf8')) };
}

/**
 * The `payee_hash` of a receipt: base64url SHA-256 of the payee's name, a line feed
 * and the payee's account as the business system sent them.
 */
export function payeeHash(payee) {
  return createHash('sha256').update(`${payee.name}\n${payee.account}`).digest('base64url');
}
