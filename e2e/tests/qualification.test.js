// The yearly benefit qualification check (待遇资格认证) with the relatives' service:
// a grandfather's pension comes from the benefit system (`fundpass benefits import`);
// his grandchild registers, sees on the web page that she has no check of her own,
// adds him in the app (he reads back the code texted to his phone), is refused with
// her own face, passes his check with his face (the dev simulator plays the
// provider), and the web page then lists him with the due date a year on.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'playwright-core';

import {
  BASE, TEST_TIMEOUT, api, assertHeading, expectStatus, fundpassCli, getJson, importMembers, launch,
  loginWithDocument, navigating, newCode, openPage, outboxIds, register, residentId, shooter,
} from './helpers.js';

const grandfather = {
  account: '300000000771', name: '周德明', idType: 'resident_id',
  id: residentId('11010819480312003'), phone: '13711110771',
};
const grandchild = {
  account: '300000000772', name: '周晓', idType: 'resident_id',
  id: residentId('11010819990723004'), phone: '13711110772',
};
const LOGIN_PASSWORD = 'Lantern2026tide';
const TRANSACTION_PASSWORD = '582047';

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

/** Today in China (UTC+8) as `YYYY-MM-DD`, moved by `days`. */
function chinaDate(days = 0) {
  return new Date(Date.now() + 8 * 3600_000 + days * 86_400_000).toISOString().slice(0, 10);
}

/** `YYYY-MM-DD` a year later (29 February becomes the 28th). */
function nextYear(date) {
  const [y, m, d] = date.split('-').map(Number);
  const last = new Date(Date.UTC(y + 1, m, 0)).getUTCDate();
  return `${y + 1}-${String(m).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}

/** A pension for the grandfather that began eleven months ago: due in about a month. */
async function importPension() {
  const dir = mkdtempSync(join(tmpdir(), 'fundpass-e2e-'));
  const file = join(dir, 'benefits.csv');
  writeFileSync(file, `account_no,kind,start_date\n${grandfather.account},pension,${chinaDate(-335)}\n`);
  try {
    const run = await fundpassCli(['benefits', 'import', '--quiet', file]);
    assert.equal(run.code, 0, `fundpass benefits import failed (${run.code}): ${run.stderr}${run.stdout}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An app token of `member`, through the captcha and the login. */
async function appLogin(member, password) {
  const captcha = expectStatus(await api(app, 'POST', '/api/v1/captcha'), 201, 'captcha');
  const { answer } = await getJson(`/dev/captcha/${encodeURIComponent(captcha.captcha_id)}`);
  const login = expectStatus(await api(app, 'POST', '/api/v1/login', {
    data: {
      id_type: member.idType, id_number: member.id, password,
      captcha_id: captcha.captcha_id, captcha_answer: answer,
    },
  }), 200, 'login');
  return login.token;
}

/** One face check of the grandfather started by `token`, with the face of `face`. */
async function checkWithFace(token, face) {
  const started = expectStatus(await api(app, 'POST', '/api/v1/qualification/checks', {
    token, data: { relative_account_no: grandfather.account },
  }), 201, 'qualification/checks');
  const signed = expectStatus(await api(app, 'POST', '/dev/face', {
    data: { nonce: started.nonce, id_type: face.idType, id_number: face.id },
  }), 200, 'dev/face');
  return api(app, 'POST', '/api/v1/qualification/checks/complete', {
    token, data: { attempt: started.attempt, result: signed.result },
  });
}

test('a grandchild adds her grandfather and passes his qualification check with his face', { timeout: TEST_TIMEOUT }, async () => {
  const { context, page, serverErrors } = await openPage(browser);
  const shot = shooter('qualification');
  try {
    await importMembers([grandfather, grandchild]);
    await importPension();

    await register(page, grandchild, { loginPassword: LOGIN_PASSWORD, transactionPassword: TRANSACTION_PASSWORD });
    await loginWithDocument(page, grandchild, LOGIN_PASSWORD);
    await navigating(page, () => page.getByRole('link', { name: '待遇资格认证', exact: true }).click());
    await assertHeading(page, '待遇资格认证');
    assert.match(await page.locator('#not-entitled').innerText(), /没有待遇领取资格/);
    await shot(page, 'no-own-check');

    // In the app: add the grandfather; he reads back the code texted to his phone.
    const token = await appLogin(grandchild, LOGIN_PASSWORD);
    const seen = await outboxIds();
    const added = expectStatus(await api(app, 'POST', '/api/v1/qualification/relatives', {
      token, data: { id_type: grandfather.idType, id_number: grandfather.id, name: grandfather.name },
    }), 202, 'qualification/relatives');
    const { code, message } = await newCode(grandfather.phone, seen, 'relative_code');
    assert.match(message.text, /亲情服务/);
    const confirmed = expectStatus(await api(app, 'POST', '/api/v1/qualification/relatives/confirm', {
      token, data: { flow: added.flow, code },
    }), 200, 'relatives/confirm');
    assert.equal(confirmed.account_no, grandfather.account);
    assert.equal(confirmed.status, 'qualified');
    const due = confirmed.due_date;
    assert.ok(due > chinaDate(), `due ${due} is ahead`);

    // Her own face is refused: the provider compares with his document.
    const own = await checkWithFace(token, grandchild);
    assert.equal(own.status, 400, own.text);
    assert.equal(own.body.error.code, 'face_rejected');
    assert.equal(own.body.error.details.reason, 'wrong_subject');

    // His face passes: the due date moves on a year.
    const passed = await checkWithFace(token, grandfather);
    assert.equal(passed.status, 200, passed.text);
    assert.equal(passed.body.account_no, grandfather.account);
    assert.equal(passed.body.last_check.channel, 'relative_face');
    assert.equal(passed.body.due_date, nextYear(due));

    // The web page lists him with the new due date.
    await page.reload();
    const row = page.locator('#relatives tbody tr', { hasText: grandfather.account });
    await row.waitFor();
    const cells = await row.locator('td').allInnerTexts();
    assert.deepEqual(cells.map((c) => c.trim()), [grandfather.account, '已认证', nextYear(due)]);
    const html = await page.content();
    assert.ok(!html.includes(grandfather.id) && !html.includes(grandchild.id), 'no full document number on the page');
    await shot(page, 'relative-checked');
    assert.deepEqual(serverErrors, [], 'no server errors');
  } finally {
    await context.close();
  }
});
