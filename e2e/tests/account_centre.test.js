// The member's account centre: where they are logged in (/sessions), what happened on
// their account (/security/record, its CSV and JSON downloads checked with the real
// `fundpass record verify`, its printable page), "this was not me" on a login, and a
// copy of their personal data (/security/my-data) — the one place the full ID number
// and phone may appear. Each test registers a member of its own, imported here, so
// the file stands alone and no other test logs these members in.
//
// Every browser here reaches the server from an address of its own in 127.0.0.0/8,
// through a small forwarding proxy, as members at home would: the server allows 30
// logins per address per 10 minutes, and the whole suite on 127.0.0.1 already comes
// close to that. It also shows the masking of an address that is not the server's.

import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import {
  BASE, STEP_TIMEOUT, TEST_TIMEOUT, ZH, ZH_RECOVERY, assertHeading, assertLabelled, assertPasswordsEmpty,
  assertTranslated, chinaClock, fieldErrors, fundpassCli, getJson, holdRows, importMembers,
  launch, loginWithDocument, messagesTo, navigating, openPage, pathOf, register, residentId,
  shooter, summaryErrors, verifyJws,
} from './helpers.js';

/** One member per test, added the way the fund's core system adds them. */
const MEMBERS = {
  sessions: {
    account: '200000000041', name: '韩雪梅', idType: 'resident_id',
    id: residentId('44010619880412041'), phone: '13700000041',
  },
  record: {
    account: '200000000042', name: '蒋志强', idType: 'resident_id',
    id: residentId('44010619790823042'), phone: '13700000042',
  },
  downloads: {
    account: '200000000043', name: '沈佳怡', idType: 'resident_id',
    id: residentId('44010619920107043'), phone: '13700000043',
  },
  notMe: {
    account: '200000000044', name: '杨国栋', idType: 'resident_id',
    id: residentId('44010619830530044'), phone: '13700000044',
  },
  myData: {
    account: '200000000045', name: '许慧敏', idType: 'resident_id',
    id: residentId('44010619950219045'), phone: '13700000045',
  },
};
const LOGIN_PASSWORD = 'Harbor2026lantern';
const TRANSACTION_PASSWORD = '508137';

/** Where the browsers of each test connect from (see `openPageFrom`). */
const ADDRESSES = {
  sessions: '127.0.0.41', sessionsOther: '127.0.0.141',
  record: '127.0.0.42',
  downloads: '127.0.0.43',
  notMe: '127.0.0.44', notMeOther: '127.0.0.144',
  myData: '127.0.0.45',
};
/** Any of them as the pages show it: the last octet hidden. */
const MASKED_LOOPBACK = '127.0.0.*';

/** Hours a "this was not me" report holds payouts (portal.hold_hours_reported). */
const REPORTED_HOLD_HOURS = 168;

/** Texts of messages/zh-CN.toml this file looks for. */
const ZH_CENTRE = {
  sessionsTitle: '登录设备',
  sessionsLink: '查看登录设备，结束其中任何一次登录',
  current: '本次登录',
  endOther: '结束此登录',
  endCurrent: '结束此登录（在本设备退出）',
  ended: '该登录已结束，无法再使用。',
  recordTitle: '账户安全记录',
  printTitle: '账户安全记录（打印版）',
  printLink: '打印版页面',
  filter: '事件类型',
  apply: '筛选',
  kindLogin: '登录',
  kindLoginFailed: '登录失败',
  kindRegistration: '注册',
  kindDataCopy: '个人信息副本',
  kindNotMe: '报告非本人操作',
  outcomeSuccess: '成功',
  outcomeFailure: '失败',
  channelOnline: '网上服务大厅',
  downloadCsv: '下载 CSV（电子表格）',
  downloadJson: '下载 JSON',
  account: '个人账号',
  notMeLink: '这不是我',
  notMeTitle: '这不是我',
  notMeSteps: [
    '退出您账户的所有登录（网页和APP，包括当前这次）；',
    '暂停您账户的提取等资金支出业务；',
    '向您留存的手机号发送短信，告知服务热线号码。',
  ],
  notMeConfirm: '确认报告：这不是我',
  notMeDoneTitle: '已报告',
  notMeDone: '已收到您的报告，您账户的所有登录均已退出。',
  // not_me.done_hold = "提取等资金支出业务已暂停至 {until}。"
  notMeHoldPattern: /^提取等资金支出业务已暂停至 (\d{4}-\d{2}-\d{2} \d{2}:\d{2})。$/,
  notMeNext: '请立即致电 12329，或在再次登录前重置登录密码。',
  heldByReport: '您报告了非本人操作',
  myDataTitle: '下载我的个人信息副本',
  myDataPassword: '登录密码',
  myDataSubmit: '验证并下载',
  // data_copy.wrong_password = "登录密码错误，再错 {remaining} 次账户将被锁定。"
  myDataWrong: (remaining) => `登录密码错误，再错 ${remaining} 次账户将被锁定。`,
};

/** Message keys of the account centre's pages that leaked into a page instead of their text. */
const UNTRANSLATED_CENTRE_KEY =
  /\b(?:sessions|record|not_me|data_copy|hold|home|security|change)\.[a-z_]+(?:\.[a-z_]+)*\b/;

let browser;
let scratch;
const proxies = [];
before(async () => {
  browser = await launch();
  scratch = mkdtempSync(join(tmpdir(), 'fundpass-e2e-centre-'));
  await importMembers(Object.values(MEMBERS));
});
after(async () => {
  await browser?.close();
  for (const proxy of proxies) {
    proxy.closeAllConnections();
    proxy.close();
  }
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Headers that belong to one connection, not to the request forwarded. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade'];

function withoutHopByHop(headers) {
  const out = { ...headers };
  for (const name of HOP_BY_HOP) delete out[name];
  return out;
}

/**
 * An HTTP proxy on 127.0.0.1 that forwards the browser's requests to the server under
 * test from `localAddress` (any 127.x address reaches 127.0.0.1), so the server sees
 * that address. Anything but the server under test is refused. Resolves with its URL.
 */
async function loopbackProxy(localAddress) {
  const target = new URL(BASE);
  const proxy = createServer((req, res) => {
    let url;
    try {
      url = new URL(req.url);
    } catch {
      url = null;
    }
    if (!url || url.host !== target.host) {
      res.writeHead(502).end(`this proxy only forwards to ${target.host}`);
      return;
    }
    const upstream = httpRequest({
      host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: req.method,
      headers: withoutHopByHop(req.headers), localAddress, timeout: STEP_TIMEOUT,
    }, (answer) => {
      res.writeHead(answer.statusCode, answer.statusMessage, withoutHopByHop(answer.headers));
      answer.pipe(res);
    });
    upstream.on('timeout', () => upstream.destroy(new Error('upstream timeout')));
    upstream.on('error', (e) => {
      if (res.headersSent) res.destroy(e);
      else res.writeHead(502).end(`proxy: ${e.message}`);
    });
    req.pipe(upstream);
  });
  proxies.push(proxy);
  await new Promise((resolvePromise, reject) => {
    proxy.once('error', reject);
    proxy.listen(0, '127.0.0.1', resolvePromise);
  });
  return `http://127.0.0.1:${proxy.address().port}`;
}

/**
 * Like the helpers' `openPage` (own cookies, Chinese, server errors recorded), for a
 * browser that reaches the server from `address`.
 */
async function openPageFrom(browser, address) {
  const server = await loopbackProxy(address);
  return openPage(browser, { proxy: { server } });
}

/** Like `assertTranslated`, also for this file's keys; `<code>` (a JWS) is not text. */
async function assertCentreTranslated(page) {
  await assertTranslated(page);
  const text = await page.evaluate(() => {
    const body = document.body.cloneNode(true);
    for (const code of body.querySelectorAll('code')) code.remove();
    return body.innerText ?? body.textContent;
  });
  const leaked = UNTRANSLATED_CENTRE_KEY.exec(text);
  assert.equal(leaked, null, `untranslated message key "${leaked?.[0]}" on ${page.url()}`);
}

/** Asserts neither the member's full document number nor full phone is in `text`. */
function assertNoFullNumbers(text, member, where) {
  for (const secret of [member.id, member.phone, member.id.slice(6, 14)]) {
    assert.ok(!text.includes(secret), `${where} contains "${secret}" of the member`);
  }
}

/** The same, for the whole HTML of the page shown. */
async function assertMaskedOnly(page, member) {
  assertNoFullNumbers(await page.content(), member, page.url());
}

/** Registers the member and logs them in from `page`; returns on the home page. */
async function registerAndLogIn(page, member, shot) {
  await register(page, member, { loginPassword: LOGIN_PASSWORD, transactionPassword: TRANSACTION_PASSWORD, shot });
  await logIn(page, member);
}

/** Logs in with the right password; returns on the home page. */
async function logIn(page, member) {
  await loginWithDocument(page, member, LOGIN_PASSWORD);
  assert.equal(pathOf(page), '/home', `the login did not open the home page: ${await page.locator('main').innerText()}`);
  await assertHeading(page, ZH.homeTitle);
}

/** Asserts the browser is logged out: the home page sends it to the login page. */
async function assertLoggedOut(page, who) {
  await page.goto('/home');
  assert.equal(pathOf(page), '/login', `${who} is still logged in`);
  await assertHeading(page, ZH.loginTitle);
}

/** The sessions listed on /sessions: `{heading, current, facts, button}` each. */
async function sessionItems(page) {
  return page.locator('ul.sessions > li').evaluateAll((items) =>
    items.map((li) => {
      const facts = {};
      for (const dt of li.querySelectorAll('dl dt')) facts[dt.textContent.trim()] = dt.nextElementSibling?.textContent.trim();
      return {
        heading: li.querySelector('h2')?.textContent.trim(),
        current: li.querySelector('h2 .current') !== null,
        facts,
        button: li.querySelector('button')?.textContent.trim(),
      };
    }),
  );
}

/** From the home page, opens the record through the security menu. */
async function openRecord(page) {
  await page.goto('/security');
  await navigating(page, () => page.getByRole('link', { name: ZH_CENTRE.recordTitle, exact: true }).click());
  assert.equal(pathOf(page), '/security/record');
  await assertHeading(page, ZH_CENTRE.recordTitle);
}

/** The rows of the record table: `{seq, at, kind, channel, outcome, address, facts, notMe}`. */
async function recordRows(page) {
  return page.locator('table.record tbody tr').evaluateAll((rows) =>
    rows.map((row) => {
      const [at, kind, channel, outcome, address, facts, report] = [...row.cells].map((c) => c.textContent.trim());
      const link = row.querySelector('a.not-me');
      return {
        seq: Number(row.id.replace(/^event-/, '')),
        at, kind, channel, outcome, address, facts, report,
        notMe: link ? { text: link.textContent.trim(), href: link.getAttribute('href') } : null,
      };
    }),
  );
}

/** Presses a download button of the record page; returns the saved file's path and name. */
async function downloadFrom(page, button, name) {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: button, exact: true }).click(),
  ]);
  assert.equal(await download.failure(), null, `the download of "${button}" failed`);
  const path = join(scratch, name);
  await download.saveAs(path);
  return { path, filename: download.suggestedFilename() };
}

/** Runs `fundpass record verify FILE` on the server's data folder. */
async function verifyRecord(path) {
  const run = await fundpassCli(['record', 'verify', path]);
  return { ...run, output: `${run.stdout}${run.stderr}` };
}

/** A copy of `path` with one bit of the byte at `index` flipped; returns the copy's path. */
function tamperedCopy(path, index) {
  const copy = `${path}.tampered`;
  copyFileSync(path, copy);
  const bytes = readFileSync(copy);
  assert.ok(index >= 0 && index < bytes.length, `byte ${index} is in the file`);
  bytes[index] ^= 0x01;
  writeFileSync(copy, bytes);
  return copy;
}

test('a member sees both browsers on /sessions, ends the other one, then this one', { timeout: TEST_TIMEOUT }, async () => {
  const member = MEMBERS.sessions;
  const { context, page, serverErrors } = await openPageFrom(browser, ADDRESSES.sessions);
  const other = await openPageFrom(browser, ADDRESSES.sessionsOther);
  const shot = shooter('account-sessions');
  try {
    await registerAndLogIn(page, member);
    await logIn(other.page, member);

    await navigating(page, () => page.getByRole('link', { name: ZH_CENTRE.sessionsLink, exact: true }).click());
    assert.equal(pathOf(page), '/sessions');
    await assertHeading(page, ZH_CENTRE.sessionsTitle);
    await assertCentreTranslated(page);
    await assertMaskedOnly(page, member);
    const both = await sessionItems(page);
    assert.equal(both.length, 2, `two sessions listed: ${JSON.stringify(both)}`);
    assert.equal(both.filter((s) => s.current).length, 1, `exactly one is this session: ${JSON.stringify(both)}`);
    const mine = both.find((s) => s.current);
    const theirs = both.find((s) => !s.current);
    assert.ok(mine.heading.includes(`(${ZH_CENTRE.current})`), `this session is marked: ${mine.heading}`);
    assert.ok(!theirs.heading.includes(ZH_CENTRE.current), `the other is not marked: ${theirs.heading}`);
    assert.equal(mine.button, ZH_CENTRE.endCurrent);
    assert.equal(theirs.button, ZH_CENTRE.endOther);
    for (const s of both) {
      assert.equal(s.facts['地址'], MASKED_LOOPBACK, `the address is masked: ${JSON.stringify(s)}`);
      assert.equal(s.facts['登录方式'], '网站');
      assert.match(s.facts['登录时间'], /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
    }
    const html = await page.content();
    for (const address of [ADDRESSES.sessions, ADDRESSES.sessionsOther]) {
      assert.ok(!html.includes(address), `the full address ${address} is not on the page`);
    }
    await shot(page, 'two-sessions');

    // End the other browser's session from this one.
    await navigating(page, () => page.locator('ul.sessions > li').filter({ hasNot: page.locator('.current') })
      .getByRole('button', { name: ZH_CENTRE.endOther, exact: true }).click());
    assert.equal(pathOf(page), '/sessions');
    assert.equal((await page.locator('.notice[role=status]').innerText()).trim(), ZH_CENTRE.ended);
    const left = await sessionItems(page);
    assert.equal(left.length, 1, `one session left: ${JSON.stringify(left)}`);
    assert.ok(left[0].current, 'the one left is this one');
    await shot(page, 'other-ended');

    await other.page.goto('/home');
    assert.equal(pathOf(other.page), '/login', 'the ended session goes to the login page');
    await page.goto('/home');
    await assertHeading(page, ZH.homeTitle);

    // End this one: logged out.
    await page.goto('/sessions');
    await navigating(page, () => page.getByRole('button', { name: ZH_CENTRE.endCurrent, exact: true }).click());
    assert.equal(pathOf(page), '/login', 'ending this session logs out');
    await shot(page, 'this-ended');
    await assertLoggedOut(page, 'the browser that ended its own session');
    assert.deepEqual([...serverErrors, ...other.serverErrors], []);
  } finally {
    await context.close();
    await other.context.close();
  }
});

test('the security record lists registration, a failed login and a login in words, and filters by kind', { timeout: TEST_TIMEOUT }, async () => {
  const member = MEMBERS.record;
  const { context, page, serverErrors } = await openPageFrom(browser, ADDRESSES.record);
  const shot = shooter('account-record');
  try {
    await register(page, member, { loginPassword: LOGIN_PASSWORD, transactionPassword: TRANSACTION_PASSWORD });
    await loginWithDocument(page, member, `${LOGIN_PASSWORD}x`);
    assert.equal(pathOf(page), '/login');
    assert.deepEqual(await summaryErrors(page), [ZH.invalid], 'the wrong password is refused');
    await logIn(page, member);

    await openRecord(page);
    await assertCentreTranslated(page);
    await assertMaskedOnly(page, member);
    const rows = await recordRows(page);
    const kinds = rows.map((r) => r.kind);
    const login = kinds.indexOf(ZH_CENTRE.kindLogin);
    const failed = kinds.indexOf(ZH_CENTRE.kindLoginFailed);
    const registered = kinds.indexOf(ZH_CENTRE.kindRegistration);
    assert.ok(login >= 0 && failed >= 0 && registered >= 0, `registration, failed login and login listed: ${JSON.stringify(kinds)}`);
    assert.ok(login < failed && failed < registered, `newest first: ${JSON.stringify(kinds)}`);
    assert.equal(kinds.filter((k) => k === ZH_CENTRE.kindLogin).length, 1, `one login: ${JSON.stringify(kinds)}`);
    assert.equal(kinds.filter((k) => k === ZH_CENTRE.kindLoginFailed).length, 1, `one failed login: ${JSON.stringify(kinds)}`);
    for (const r of rows) {
      assert.match(r.at, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/, `time of ${JSON.stringify(r)}`);
      assert.ok(Number.isInteger(r.seq) && r.seq > 0, `row id of ${JSON.stringify(r)}`);
    }
    assert.equal(rows[login].outcome, ZH_CENTRE.outcomeSuccess);
    assert.equal(rows[login].channel, ZH_CENTRE.channelOnline);
    assert.equal(rows[login].address, MASKED_LOOPBACK);
    assert.equal(rows[failed].outcome, ZH_CENTRE.outcomeFailure);
    assert.equal(rows[failed].address, MASKED_LOOPBACK);
    assert.equal(rows[registered].outcome, ZH_CENTRE.outcomeSuccess);
    assert.deepEqual(rows[login].notMe, { text: ZH_CENTRE.notMeLink, href: `/security/record/${rows[login].seq}/not-me` });
    assert.equal(rows[failed].notMe, null, 'a failed login cannot be reported');
    assert.equal(rows[registered].notMe, null, 'a registration cannot be reported');
    assert.ok(!(await page.content()).includes(ADDRESSES.record), 'no full address on the page');
    await shot(page, 'all-kinds');

    // The kind filter: only failed logins, then only logins.
    await page.getByLabel(ZH_CENTRE.filter, { exact: true }).selectOption({ label: ZH_CENTRE.kindLoginFailed });
    await navigating(page, () => page.getByRole('button', { name: ZH_CENTRE.apply, exact: true }).click());
    assert.equal(new URL(page.url()).searchParams.get('kind'), 'login_failed');
    await assertHeading(page, ZH_CENTRE.recordTitle);
    const failedOnly = await recordRows(page);
    assert.deepEqual(failedOnly.map((r) => r.kind), [ZH_CENTRE.kindLoginFailed], `filtered: ${JSON.stringify(failedOnly)}`);
    assert.equal(failedOnly[0].seq, rows[failed].seq);
    const selected = await page.getByLabel(ZH_CENTRE.filter, { exact: true }).evaluate((s) => s.selectedOptions[0]?.textContent.trim());
    assert.equal(selected, ZH_CENTRE.kindLoginFailed, 'the filter shows what it is set to');
    await shot(page, 'failed-logins-only');

    await page.getByLabel(ZH_CENTRE.filter, { exact: true }).selectOption({ label: ZH_CENTRE.kindLogin });
    await navigating(page, () => page.getByRole('button', { name: ZH_CENTRE.apply, exact: true }).click());
    assert.equal(new URL(page.url()).searchParams.get('kind'), 'login');
    const loginsOnly = await recordRows(page);
    assert.deepEqual(loginsOnly.map((r) => r.seq), [rows[login].seq], `filtered: ${JSON.stringify(loginsOnly)}`);
    await assertMaskedOnly(page, member);
    assert.deepEqual(serverErrors, []);
  } finally {
    await context.close();
  }
});

test('the record downloads as CSV and JSON that `fundpass record verify` finds intact, and prints', { timeout: TEST_TIMEOUT }, async () => {
  const member = MEMBERS.downloads;
  const { context, page, serverErrors } = await openPageFrom(browser, ADDRESSES.downloads);
  const shot = shooter('account-downloads');
  try {
    await registerAndLogIn(page, member);
    await openRecord(page);
    await shot(page, 'record');

    // CSV: a byte-order mark, the account, an integrity line last.
    const csv = await downloadFrom(page, ZH_CENTRE.downloadCsv, 'record.csv');
    assert.match(csv.filename, /^fundpass-security-record-\d{4}-\d{2}-\d{2}\.csv$/);
    const csvBytes = readFileSync(csv.path);
    assert.deepEqual([...csvBytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'the CSV begins with the UTF-8 byte-order mark');
    const csvText = csvBytes.toString('utf8');
    const csvLines = csvText.split(/\r?\n/).filter((l) => l !== '');
    assert.ok(csvLines.at(-1).startsWith('integrity,'), `the last line is the integrity value: ${csvLines.at(-1)}`);
    assert.ok(csvText.includes(member.account), 'the CSV names the account');
    assert.ok(csvText.includes(ZH_CENTRE.kindLogin) && csvText.includes(ZH_CENTRE.kindRegistration), 'the CSV tells the events in words');
    assertNoFullNumbers(csvText, member, 'the CSV download');
    assert.ok(csvText.includes(MASKED_LOOPBACK) && !csvText.includes(ADDRESSES.downloads), 'the CSV masks the address');
    assert.equal(pathOf(page), '/security/record', 'the download leaves the page as it was');

    const csvIntact = await verifyRecord(csv.path);
    assert.equal(csvIntact.code, 0, `record verify of the CSV: ${csvIntact.output}`);
    assert.ok(csvIntact.output.includes('intact'), csvIntact.output);
    assert.ok(csvIntact.output.includes(member.account), csvIntact.output);
    const csvTampered = await verifyRecord(tamperedCopy(csv.path, csvBytes.indexOf(member.account) + member.account.length - 1));
    assert.equal(csvTampered.code, 1, `record verify of the changed CSV: ${csvTampered.output}`);
    assert.ok(csvTampered.output.includes('NOT VALID'), csvTampered.output);

    // JSON: the record and its integrity value.
    const json = await downloadFrom(page, ZH_CENTRE.downloadJson, 'record.json');
    assert.match(json.filename, /^fundpass-security-record-\d{4}-\d{2}-\d{2}\.json$/);
    const jsonBytes = readFileSync(json.path);
    const document = JSON.parse(jsonBytes.toString('utf8'));
    assert.ok(document.record, 'the JSON holds the record');
    assert.match(document.integrity, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'and a compact JWS');
    assertNoFullNumbers(jsonBytes.toString('utf8'), member, 'the JSON download');
    assert.ok(!jsonBytes.toString('utf8').includes(ADDRESSES.downloads), 'the JSON masks the address');
    const jsonIntact = await verifyRecord(json.path);
    assert.equal(jsonIntact.code, 0, `record verify of the JSON: ${jsonIntact.output}`);
    assert.ok(jsonIntact.output.includes('intact'), jsonIntact.output);
    assert.ok(jsonIntact.output.includes(member.account), jsonIntact.output);
    const accountAt = jsonBytes.indexOf(member.account);
    assert.ok(accountAt > 0 && accountAt < jsonBytes.indexOf('"integrity"'), 'the account is in the signed record');
    const jsonTampered = await verifyRecord(tamperedCopy(json.path, accountAt + member.account.length - 1));
    assert.equal(jsonTampered.code, 1, `record verify of the changed JSON: ${jsonTampered.output}`);
    assert.ok(jsonTampered.output.includes('NOT VALID'), jsonTampered.output);

    // The printable page: the account and the integrity value, a JWS of fundpass's key.
    await navigating(page, () => page.getByRole('link', { name: ZH_CENTRE.printLink, exact: true }).click());
    assert.equal(pathOf(page), '/security/record/print');
    await assertHeading(page, ZH_CENTRE.printTitle);
    await assertCentreTranslated(page);
    await assertMaskedOnly(page, member);
    const facts = await page.locator('dl.profile').evaluate((dl) => {
      const out = {};
      for (const dt of dl.querySelectorAll('dt')) out[dt.textContent.trim()] = dt.nextElementSibling?.textContent.trim();
      return out;
    });
    assert.equal(facts[ZH_CENTRE.account], member.account, `the account on the printable page: ${JSON.stringify(facts)}`);
    const compact = (await page.locator('main code').innerText()).trim();
    assert.match(compact, /^[\w-]+\.[\w-]+\.[\w-]+$/, `a compact JWS in <code>: ${compact}`);
    const keySet = await getJson('/internal/v1/jwks.json');
    const { header, claims } = verifyJws(compact, keySet);
    assert.equal(header.typ, 'security-record+jwt');
    assert.equal(claims.sub, member.account);
    const printed = await page.locator('table.record tbody tr').count();
    assert.equal(claims.entries, printed, 'the value covers the rows printed');
    await shot(page, 'print');
    assert.deepEqual(serverErrors, []);
  } finally {
    await context.close();
  }
});

test('"this was not me" on a login logs every browser out, holds payouts and texts the hotline', { timeout: TEST_TIMEOUT }, async () => {
  const member = MEMBERS.notMe;
  const { context, page, serverErrors } = await openPageFrom(browser, ADDRESSES.notMe);
  const other = await openPageFrom(browser, ADDRESSES.notMeOther);
  const shot = shooter('account-not-me');
  try {
    await registerAndLogIn(page, member);
    await logIn(other.page, member);

    await openRecord(page);
    const rows = await recordRows(page);
    const logins = rows.filter((r) => r.kind === ZH_CENTRE.kindLogin);
    assert.equal(logins.length, 2, `both logins listed: ${JSON.stringify(rows)}`);
    for (const r of logins) {
      assert.deepEqual(r.notMe, { text: ZH_CENTRE.notMeLink, href: `/security/record/${r.seq}/not-me` }, `each login has ${ZH_CENTRE.notMeLink}`);
    }
    const reported = logins[0];
    await navigating(page, () => page.locator(`#event-${reported.seq}`)
      .getByRole('link', { name: ZH_CENTRE.notMeLink, exact: true }).click());
    assert.equal(pathOf(page), `/security/record/${reported.seq}/not-me`);
    await assertHeading(page, ZH_CENTRE.notMeTitle);
    await assertCentreTranslated(page);
    await assertMaskedOnly(page, member);
    const steps = (await page.locator('main ul li').allInnerTexts()).map((t) => t.trim());
    assert.deepEqual(steps, ZH_CENTRE.notMeSteps, 'the page says what the report will do');
    const entry = await page.locator('dl.profile').innerText();
    assert.ok(entry.includes(reported.at) && entry.includes(ZH_CENTRE.kindLogin), `the page shows the event reported: ${entry}`);
    assert.ok(entry.includes(MASKED_LOOPBACK), `with its masked address: ${entry}`);
    assert.equal(await messagesTo(member.phone).then((m) => m.filter((x) => x.purpose === 'not_me').length), 0, 'nothing sent before confirming');
    await shot(page, 'confirm');

    const pressed = new Date();
    await navigating(page, () => page.getByRole('button', { name: ZH_CENTRE.notMeConfirm, exact: true }).click());
    await assertHeading(page, ZH_CENTRE.notMeDoneTitle);
    await assertCentreTranslated(page);
    assert.equal((await page.locator('.notice[role=status]').innerText()).trim(), ZH_CENTRE.notMeDone);
    const paragraphs = (await page.locator('main > p').allInnerTexts()).map((t) => t.trim());
    assert.ok(paragraphs.includes(ZH_CENTRE.notMeNext), `the hotline 12329 is on the page: ${JSON.stringify(paragraphs)}`);
    const holdLine = paragraphs.find((p) => ZH_CENTRE.notMeHoldPattern.test(p));
    assert.ok(holdLine, `the hold time is on the page: ${JSON.stringify(paragraphs)}`);
    const until = ZH_CENTRE.notMeHoldPattern.exec(holdLine)[1];
    const asUtc = (text) => Date.parse(`${text.replace(' ', 'T')}:00+08:00`);
    const minute = (d) => asUtc(`${chinaClock(d).date} ${chinaClock(d).time}`);
    const hold = REPORTED_HOLD_HOURS * 3_600_000;
    assert.ok(asUtc(until) >= minute(pressed) + hold && asUtc(until) <= minute(new Date()) + hold,
      `payouts are held ${REPORTED_HOLD_HOURS} hours from the report: until ${until}`);
    await shot(page, 'done');

    await assertLoggedOut(page, 'the browser that reported');
    await assertLoggedOut(other.page, 'the other browser');

    const texts = (await messagesTo(member.phone)).filter((m) => m.purpose === 'not_me');
    assert.equal(texts.length, 1, `one text about the report: ${JSON.stringify(texts)}`);
    assert.ok(texts[0].text.includes('12329'), `the text gives the hotline: ${texts[0].text}`);

    // Logged in again: the home page shows the protection period of the report.
    await logIn(page, member);
    await assertCentreTranslated(page);
    const holds = await holdRows(page);
    const held = holds.find((h) => h.what === ZH_CENTRE.heldByReport);
    assert.ok(held, `the home page shows the hold "${ZH_CENTRE.heldByReport}": ${JSON.stringify(holds)}`);
    assert.equal(held.until, until, 'the same end as the report page said');
    assert.equal(held.channel, ZH_RECOVERY.channelWeb);
    await shot(page, 'home-held');

    await openRecord(page);
    const later = await recordRows(page);
    const report = later.find((r) => r.kind === ZH_CENTRE.kindNotMe);
    assert.ok(report, `the report is on the record: ${JSON.stringify(later.map((r) => r.kind))}`);
    assert.ok(report.facts.includes(ZH_CENTRE.kindLogin), `the report names what was reported: ${report.facts}`);
    assert.equal(report.notMe, null, 'a report cannot itself be reported');
    await assertMaskedOnly(page, member);
    await shot(page, 'record-after');
    assert.deepEqual([...serverErrors, ...other.serverErrors], []);
  } finally {
    await context.close();
    await other.context.close();
  }
});

test('a copy of my personal data needs the login password and is the only place with the full numbers', { timeout: TEST_TIMEOUT }, async () => {
  const member = MEMBERS.myData;
  const { context, page, serverErrors } = await openPageFrom(browser, ADDRESSES.myData);
  const shot = shooter('account-my-data');
  try {
    await registerAndLogIn(page, member);
    await page.goto('/security');
    await navigating(page, () => page.getByRole('link', { name: ZH_CENTRE.myDataTitle, exact: true }).click());
    assert.equal(pathOf(page), '/security/my-data');
    await assertHeading(page, ZH_CENTRE.myDataTitle);
    await assertCentreTranslated(page);
    await assertMaskedOnly(page, member);
    const labels = await assertLabelled(page);
    assert.deepEqual(labels, { password: ZH_CENTRE.myDataPassword });
    await shot(page, 'form');

    // A wrong password: refused next to the field, with the tries left.
    await page.getByLabel(ZH_CENTRE.myDataPassword, { exact: true }).fill(`${LOGIN_PASSWORD}x`);
    await navigating(page, () => page.getByRole('button', { name: ZH_CENTRE.myDataSubmit, exact: true }).click());
    await assertHeading(page, ZH_CENTRE.myDataTitle);
    assert.deepEqual(await fieldErrors(page, 'password'), [ZH_CENTRE.myDataWrong(4)]);
    assert.equal(await page.locator('#password').getAttribute('aria-invalid'), 'true');
    assert.equal(await assertPasswordsEmpty(page), 1);
    await assertMaskedOnly(page, member);
    assert.equal((await messagesTo(member.phone)).filter((m) => m.purpose === 'data_copy').length, 0, 'no notice for a refused copy');
    await shot(page, 'wrong-password');

    // The right one: a JSON download with the full numbers.
    await page.getByLabel(ZH_CENTRE.myDataPassword, { exact: true }).fill(LOGIN_PASSWORD);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: ZH_CENTRE.myDataSubmit, exact: true }).click(),
    ]);
    assert.equal(await download.failure(), null, 'the copy downloaded');
    assert.match(download.suggestedFilename(), /^fundpass-my-data-\d{4}-\d{2}-\d{2}\.json$/);
    const path = join(scratch, 'my-data.json');
    await download.saveAs(path);
    const copy = JSON.parse(readFileSync(path, 'utf8'));
    assert.equal(copy.id_number, member.id, 'the full ID number is in the copy');
    assert.equal(copy.phone, member.phone, 'the full phone is in the copy');
    assert.equal(copy.account_no, member.account);
    assert.equal(copy.name, member.name);
    assert.equal(pathOf(page), '/security/my-data', 'the download leaves the page as it was');
    await assertMaskedOnly(page, member);

    const notices = (await messagesTo(member.phone)).filter((m) => m.purpose === 'data_copy');
    assert.equal(notices.length, 1, `one notice of the copy: ${JSON.stringify(notices)}`);
    assert.match(notices[0].text, /下载了个人信息副本/);

    // The record tells of the copy, still without the full numbers.
    await openRecord(page);
    const kinds = (await recordRows(page)).map((r) => r.kind);
    assert.ok(kinds.includes(ZH_CENTRE.kindDataCopy), `the copy is on the record: ${JSON.stringify(kinds)}`);
    await assertMaskedOnly(page, member);
    await shot(page, 'record-after');
    assert.deepEqual(serverErrors, []);
  } finally {
    await context.close();
  }
});
