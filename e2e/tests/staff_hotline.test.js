// Staff console, hotline (seed 000), in the browser: the administrator creates a
// hotline account; the agent runs the caller-verification checklist on a registered
// member who set security questions. A wrong phone fails (the table says which item,
// nothing can be sent); a passing checklist allows one thing, a reset ticket texted
// to the phone on file, which the agent never sees. The member reads it from the SMS
// and sets a new transaction password online at /ticket.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  MEMBER_PAGE_PATH, TEST_TIMEOUT, TICKET_PATTERN, ZH_STAFF, assertHeading, assertLabelled,
  assertPasswordsEmpty, assertStaffTranslated, createStaff, importMembers, launch,
  loginWithDocument, maskPhone, maskResidentId, messagesTo, navigating, openPage, pathOf,
  register, residentId, shooter, staffCookie, staffFirstLogin, staffLookUp, summaryErrors,
} from './helpers.js';

// A member of this file only.
const memberId = residentId('42010219910212022');
const member = {
  account: '200000000012', name: '钱建国', idType: 'resident_id', id: memberId,
  phone: '13700000012', maskedId: maskResidentId(memberId), maskedPhone: maskPhone('13700000012'),
};
const LOGIN_PASSWORD = 'Meadow2026rain';
const TRANSACTION_PASSWORD = '470362';
const NEW_TRANSACTION_PASSWORD = '815937';
const QUESTIONS = [
  { code: 'first_school', text: '您就读的第一所学校叫什么名字？', answer: '鼓楼实验小学' },
  { code: 'childhood_friend', text: '您童年最好的朋友叫什么名字？', answer: '李小龙' },
];
const WRONG_PHONE = '13700000099';

const agent = {
  username: 'e2e.hotline.agent', name: '坐席郑丽', role: 'hotline', password: 'Violet#Compass93',
  branchId: 'H0001', branchName: '12329服务热线',
};

let browser;
before(async () => {
  browser = await launch();
  await importMembers([member]);
  await createStaff(agent);
});
after(async () => {
  await browser?.close();
});

/** The checklist table: `{item, result, ok}` per row. */
async function checklistRows(page) {
  return page.locator('table.checklist tbody tr').evaluateAll((rows) => rows.map((row) => ({
    item: row.cells[0].textContent.trim(),
    result: row.cells[1].textContent.trim(),
    ok: row.cells[1].classList.contains('pass'),
  })));
}

/** Fills the checklist on the member's page with what the caller says, and submits it. */
async function runChecklist(page, { callId, phone }) {
  await page.getByLabel('来电编号', { exact: true }).fill(callId);
  await page.getByLabel('来电人所报姓名', { exact: true }).fill(member.name);
  await page.getByLabel('来电人所报手机号', { exact: true }).fill(phone);
  for (const q of QUESTIONS) await page.getByLabel(q.text, { exact: true }).fill(q.answer);
  await navigating(page, () => page.getByRole('button', { name: '核验', exact: true }).click());
  await assertHeading(page, ZH_STAFF.checkTitle);
  assert.deepEqual(await summaryErrors(page), [], `the checklist was refused: ${await page.locator('main').innerText()}`);
  return pathOf(page);
}

/** The result shown on the check page. */
async function checkResult(page) {
  return (await page.locator('.check-result').innerText()).trim();
}

test('a hotline agent verifies a caller and has a transaction-password ticket texted; the member redeems it online', { timeout: TEST_TIMEOUT }, async () => {
  const memberSide = await openPage(browser);
  const hotline = await openPage(browser);
  const online = await openPage(browser);
  const shot = shooter('staff-hotline');
  const { page: memberPage } = memberSide;
  const { page } = hotline;
  try {
    // The member registers and sets two security questions.
    await register(memberPage, member, { loginPassword: LOGIN_PASSWORD, transactionPassword: TRANSACTION_PASSWORD });
    await loginWithDocument(memberPage, member, LOGIN_PASSWORD);
    assert.equal(pathOf(memberPage), '/home');
    await memberPage.goto('/security/questions');
    await assertHeading(memberPage, '安全问题');
    for (const [i, q] of QUESTIONS.entries()) {
      await memberPage.locator(`#question_${i + 1}`).selectOption(q.code);
      await memberPage.locator(`#answer_${i + 1}`).fill(q.answer);
    }
    await navigating(memberPage, () => memberPage.getByRole('button', { name: '保存安全问题', exact: true }).click());
    assert.equal((await memberPage.locator('.notice[role=status]').innerText()).trim(),
      '安全问题已保存，通知短信已发送至中心留存手机号。', `the questions were not saved: ${await memberPage.locator('main').innerText()}`);

    // The agent's first login, then the member's page: the checklist and nothing else.
    await staffFirstLogin(page, agent, { shot });
    await staffLookUp(page, member);
    assert.match(pathOf(page), MEMBER_PAGE_PATH);
    const memberPath = pathOf(page);
    await assertHeading(page, ZH_STAFF.memberTitle);
    const html = await page.content();
    assert.ok(!html.includes(member.id) && !html.includes(member.phone), 'the member page shows masked numbers only');
    assert.ok(html.includes(member.maskedId) && html.includes(member.maskedPhone));
    const labels = await assertLabelled(page);
    assert.deepEqual(Object.keys(labels).sort(),
      ['answer_childhood_friend', 'answer_first_school', 'call_id', 'name', 'phone'],
      'the agent sees the checklist only (no counter form, no reveal)');
    for (const q of QUESTIONS) {
      assert.equal(labels[`answer_${q.code}`], q.text, 'each question the member set is asked');
      assert.ok(!html.includes(q.answer), 'the answers on file are never shown');
    }
    assert.equal(await page.getByText(ZH_STAFF.noQuestions, { exact: true }).count(), 0);
    await assertStaffTranslated(page);
    await shot(page, 'member-page');

    // A caller with the wrong phone: the table names the failed item; nothing to send.
    const resultPaths = [await runChecklist(page, { callId: 'CALL-20260601-0001', phone: WRONG_PHONE })];
    assert.equal(await checkResult(page), ZH_STAFF.checkFailed);
    const failed = await checklistRows(page);
    assert.deepEqual(failed.map((r) => [r.item, r.result]), [
      ['证件', ZH_STAFF.itemPass],
      ['姓名', ZH_STAFF.itemPass],
      ['手机号', ZH_STAFF.itemFail],
      ...QUESTIONS.map((q) => [q.text, ZH_STAFF.itemPass]),
    ]);
    assert.deepEqual(failed.filter((r) => !r.ok).map((r) => r.item), ['手机号']);
    assert.equal(await page.getByRole('button', { name: ZH_STAFF.send, exact: true }).count(), 0, 'no send button after a failed checklist');
    assert.equal(await page.locator('form[action$="/send"]').count(), 0);
    assert.ok(!(await page.content()).includes(member.phone), 'the phone on file is not shown');
    await assertStaffTranslated(page);
    await shot(page, 'checklist-failed');

    // Again with what the member really has on file: passed, and the send form.
    await navigating(page, () => page.getByRole('link', { name: '返回缴存人页面', exact: true }).click());
    assert.equal(pathOf(page), memberPath);
    resultPaths.push(await runChecklist(page, { callId: 'CALL-20260601-0002', phone: member.phone }));
    assert.equal(await checkResult(page), ZH_STAFF.checkPassed);
    const passed = await checklistRows(page);
    assert.ok(passed.length === 3 + QUESTIONS.length && passed.every((r) => r.ok), `every item passes: ${JSON.stringify(passed)}`);
    const form = page.locator('form[action$="/send"]');
    assert.equal(await form.count(), 1, 'a passed checklist offers the send form');
    const checkPath = (await form.getAttribute('action')).replace(/\/send$/, '');
    assert.match(checkPath, /^\/staff\/checks\/[0-9a-f]{32}$/);
    const controls = await form.locator('input:not([type=hidden]), select, textarea').evaluateAll((els) => els.map((e) => e.name));
    assert.deepEqual(controls, ['scope'], 'the send form asks what to reset, nothing else');
    assert.equal(await page.locator('input[type=tel], input[name*=phone]').count(), 0, 'no phone number can be typed');
    const scopes = await form.locator('#scope option').evaluateAll((os) => os.map((o) => o.value));
    assert.deepEqual(scopes, ['login', 'transaction', 'both']);
    const checkLabels = await assertLabelled(page);
    assert.deepEqual(checkLabels, { scope: '重置' });
    await assertStaffTranslated(page);
    await shot(page, 'checklist-passed');

    // The ticket goes to the phone on file; the page says so, masked, without the ticket.
    const before = new Set((await messagesTo(member.phone)).map((m) => m.id));
    await page.getByLabel('重置', { exact: true }).selectOption('transaction');
    await navigating(page, () => page.getByRole('button', { name: ZH_STAFF.send, exact: true }).click());
    await assertHeading(page, ZH_STAFF.checkTitle);
    assert.deepEqual(await summaryErrors(page), []);
    assert.equal((await page.locator('.notice[role=status]').innerText()).trim(), ZH_STAFF.sent(member.maskedPhone));
    const sms = (await messagesTo(member.phone)).filter((m) => !before.has(m.id) && m.purpose === 'reset_ticket');
    assert.equal(sms.length, 1, 'one ticket SMS to the phone on file');
    const match = /[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}/.exec(sms[0].text);
    assert.ok(match, `no ticket in the SMS ${JSON.stringify(sms[0].text)}`);
    const ticket = match[0];
    assert.match(ticket, TICKET_PATTERN);
    assert.ok(sms[0].text.includes('交易密码'), `the SMS says what the ticket resets: ${sms[0].text}`);
    const sentHtml = await page.content();
    assert.ok(!sentHtml.includes(ticket) && !sentHtml.includes(ticket.replaceAll('-', '')), 'the agent never sees the ticket');
    assert.equal(await page.getByRole('button', { name: ZH_STAFF.send, exact: true }).count(), 0, 'a checklist leads to one ticket only');
    await assertStaffTranslated(page);
    await shot(page, 'ticket-sent');

    // The check page, opened again: no ticket there either.
    await page.goto(checkPath);
    await assertHeading(page, ZH_STAFF.checkTitle);
    assert.equal(await checkResult(page), ZH_STAFF.checkPassed);
    assert.ok(!(await page.content()).includes(ticket), 'the check page never carries the ticket');
    assert.equal(await page.locator('form[action$="/send"]').count(), 0, 'used: no send form');
    await assertStaffTranslated(page);

    // The member, online, with the ticket from the SMS: the transaction password only.
    assert.equal(await staffCookie(online.context), undefined);
    const { page: web } = online;
    await web.goto('/ticket');
    await assertHeading(web, ZH_STAFF.ticketTitle);
    const ticketLabels = await assertLabelled(web);
    assert.deepEqual(Object.keys(ticketLabels).sort(), ['id_number', 'id_type', 'ticket']);
    await assertStaffTranslated(web);
    // Typed as people do: lower case, without the dashes.
    await web.getByLabel('重置凭证', { exact: true }).fill(ticket.replaceAll('-', '').toLowerCase());
    await web.getByLabel('证件类型', { exact: true }).selectOption(member.idType);
    await web.getByLabel('证件号码', { exact: true }).fill(member.id);
    await navigating(web, () => web.getByRole('button', { name: '下一步', exact: true }).click());
    await assertHeading(web, ZH_STAFF.ticketTitle);
    assert.deepEqual(await summaryErrors(web), [], `the ticket was refused: ${await web.locator('main').innerText()}`);
    const newLabels = await assertLabelled(web);
    assert.deepEqual(Object.keys(newLabels).sort(), ['transaction_password', 'transaction_password_again'],
      'a transaction-password ticket asks for the transaction password only');
    assert.equal(await assertPasswordsEmpty(web), 2);
    await assertStaffTranslated(web);
    await shot(web, 'ticket-new-transaction-password');
    await web.getByLabel('设置交易密码', { exact: true }).fill(NEW_TRANSACTION_PASSWORD);
    await web.getByLabel('再次输入交易密码', { exact: true }).fill(NEW_TRANSACTION_PASSWORD);
    await navigating(web, () => web.getByRole('button', { name: '提交', exact: true }).click());
    await assertHeading(web, ZH_STAFF.ticketTitle);
    assert.equal((await web.locator('.notice[role=status]').innerText()).trim(), ZH_STAFF.ticketDone,
      `the transaction password was not set: ${await web.locator('main').innerText()}`);
    assert.ok(!(await web.content()).includes(NEW_TRANSACTION_PASSWORD));
    await assertStaffTranslated(web);
    await shot(web, 'ticket-done');

    // The login password is untouched: the member still logs in with it.
    await loginWithDocument(memberPage, member, LOGIN_PASSWORD);
    assert.equal(pathOf(memberPage), '/home', `the login password changed: ${await memberPage.locator('main').innerText()}`);

    for (const side of [memberSide, hotline, online]) {
      assert.deepEqual(side.serverErrors, [], 'no page answered with a server error');
    }

    // Last, so that everything above is checked whatever this finds: the result is its
    // own page (/staff/checks/{id}, after a redirect), so reloading it shows the result
    // again instead of posting the checklist a second time (a failed one counts
    // against the member: three lock hotline resets for a day).
    for (const path of resultPaths) {
      assert.match(path, /^\/staff\/checks\/[0-9a-f]{32}$/, `the checklist result is shown at ${path}, the address the checklist was posted to`);
    }
  } finally {
    await online.context.close();
    await hotline.context.close();
    await memberSide.context.close();
  }
});
