// Staff console, counter (seed 002 scenario 3, method 2), in the browser: the
// administrator creates counter and supervisor accounts with the command line; the
// counter logs in with password and a TOTP code enrolled on the spot, finds a
// registered member (masked only), records the in-person check and prints a one-time
// ticket; the member sets a new login password with it on the PIN-pad page, in a
// browser without any staff cookie. A second reset within 30 days waits for a
// supervisor: only after the approval can the counter issue its ticket.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  MEMBER_PAGE_PATH, TEST_TIMEOUT, TICKET_PATTERN, ZH, ZH_STAFF, assertHeading, assertLabelled,
  assertPasswordsEmpty, assertStaffTranslated, chinaClock, createStaff, fieldErrors,
  importMembers, launch, loginWithDocument, maskPhone, maskResidentId, messagesTo,
  navigating, openPage, pathOf, register, residentId, sessionCookie, shooter, staffCookie,
  staffFirstLogin, staffLookUp, summaryErrors,
} from './helpers.js';

// A member of this file only, added the way the fund's core system adds them.
const memberId = residentId('32010219880506011');
const member = {
  account: '200000000011', name: '孙丽华', idType: 'resident_id', id: memberId,
  phone: '13700000011', maskedId: maskResidentId(memberId), maskedPhone: maskPhone('13700000011'),
};
const LOGIN_PASSWORD = 'Lantern2026moon';
const PINPAD_LOGIN_PASSWORD = 'Lantern2026star';
const APPROVED_LOGIN_PASSWORD = 'Lantern2026tide';
const TRANSACTION_PASSWORD = '582046';
const APPROVED_TRANSACTION_PASSWORD = '639175';

const counter = {
  username: 'e2e.counter.desk', name: '柜员周敏', role: 'counter', password: 'Quartz#Lantern42',
  branchId: 'B0203', branchName: '建设银行鼓楼支行',
};
const supervisor = {
  username: 'e2e.counter.boss', name: '主管吴刚', role: 'supervisor', password: 'Copper#Harbour57',
  branchId: 'B0203', branchName: '建设银行鼓楼支行',
};

let browser;
const shot = shooter('staff-counter');
// Shared by the two tests: the second goes on where the first left off.
const state = {};

before(async () => {
  browser = await launch();
  await importMembers([member]);
  await createStaff(counter);
  await createStaff(supervisor);
});
after(async () => {
  for (const c of [state.memberSide, state.pinpad, state.desk, state.boss]) await c?.context.close();
  await browser?.close();
});

/** Asserts no full document or phone number of the member is anywhere in the page's HTML. */
async function assertMaskedOnly(page) {
  const html = await page.content();
  for (const secret of [member.id, member.phone, member.id.slice(6, 14)]) {
    assert.ok(!html.includes(secret), `the page ${page.url()} contains "${secret}"`);
  }
}

/** The text of the `<dd>` after the `<dt>` labelled `label` in the page's profile lists. */
async function definition(page, label) {
  const found = await page.locator('dl.profile dt').evaluateAll((dts, wanted) => {
    const dt = dts.find((d) => d.textContent.trim() === wanted);
    const dd = dt?.nextElementSibling;
    return dd && dd.tagName === 'DD' ? dd.innerText.trim() : null;
  }, label);
  assert.notEqual(found, null, `no "${label}" in the page's details at ${page.url()}`);
  return found;
}

/** Fills the in-person check on the member's page (the card shown at the desk). */
async function fillCounterCheck(page, { cardNumber = member.id, scope, formNumber }) {
  await page.getByLabel('证件类型', { exact: true }).selectOption(member.idType);
  await page.getByLabel('证件上的号码', { exact: true }).fill(cardNumber);
  // A card valid for another five years (China date).
  const { date } = chinaClock(new Date(), 5 * 365 * 24 * 60);
  await page.getByLabel('证件有效期至', { exact: true }).fill(date);
  await page.getByLabel('已签署的重置申请表编号', { exact: true }).fill(formNumber);
  await page.getByLabel('重置', { exact: true }).selectOption(scope);
}

/** The ticket on a receipt page, checked for its shape and its once-only hint. */
async function receiptTicket(page) {
  await assertHeading(page, ZH_STAFF.receiptTitle);
  const ticket = (await page.locator('#ticket').innerText()).trim();
  assert.match(ticket, TICKET_PATTERN);
  assert.ok(await page.locator('#ticket').isVisible(), 'the ticket is shown');
  const text = await page.locator('main').innerText();
  assert.ok(text.includes('凭证仅在本页显示一次'), 'the receipt says the ticket is shown once');
  const pinpad = page.getByRole('link', { name: '为缴存人打开密码键盘页面', exact: true });
  assert.equal(await pinpad.getAttribute('href'), '/counter/pinpad');
  assert.equal(await pinpad.getAttribute('target'), '_blank', 'the PIN-pad opens on its own screen');
  assert.equal(await definition(page, '状态'), ZH_STAFF.statusIssued);
  await assertMaskedOnly(page);
  await assertStaffTranslated(page);
  return ticket;
}

/**
 * On the PIN-pad page (a member page, no staff cookie): the ticket and the document,
 * then the new secrets the ticket is for. Returns the labels of the second step.
 */
async function redeemOnPinpad(page, ticket, passwords, { shots = false } = {}) {
  await page.goto('/counter/pinpad');
  await assertHeading(page, ZH_STAFF.pinpadTitle);
  const labels = await assertLabelled(page);
  assert.deepEqual(Object.keys(labels).sort(), ['id_number', 'id_type', 'ticket']);
  assert.equal(await page.locator('#ticket').getAttribute('autocomplete'), 'off');
  await assertStaffTranslated(page);
  await page.getByLabel('重置凭证', { exact: true }).fill(ticket);
  await page.getByLabel('证件类型', { exact: true }).selectOption(member.idType);
  await page.getByLabel('证件号码', { exact: true }).fill(member.id);
  if (shots) await shot(page, 'pinpad-ticket');
  await navigating(page, () => page.getByRole('button', { name: '下一步', exact: true }).click());
  await assertHeading(page, ZH_STAFF.pinpadTitle);
  assert.deepEqual(await summaryErrors(page), [], `the ticket was refused: ${await page.locator('main').innerText()}`);
  const newLabels = await assertLabelled(page);
  await assertPasswordsEmpty(page);
  await assertStaffTranslated(page);
  if (passwords.login) {
    await page.getByLabel('设置登录密码', { exact: true }).fill(passwords.login);
    await page.getByLabel('再次输入登录密码', { exact: true }).fill(passwords.login);
  }
  if (passwords.transaction) {
    await page.getByLabel('设置交易密码', { exact: true }).fill(passwords.transaction);
    await page.getByLabel('再次输入交易密码', { exact: true }).fill(passwords.transaction);
  }
  if (shots) await shot(page, 'pinpad-new-password');
  await navigating(page, () => page.getByRole('button', { name: '提交', exact: true }).click());
  await assertHeading(page, ZH_STAFF.pinpadTitle);
  assert.equal((await page.locator('.notice[role=status]').innerText()).trim(), ZH_STAFF.ticketDone,
    `the new password was not set: ${await page.locator('main').innerText()}`);
  await assertStaffTranslated(page);
  const html = await page.content();
  for (const secret of [ticket, passwords.login, passwords.transaction].filter(Boolean)) {
    assert.ok(!html.includes(secret), 'nothing typed is shown back');
  }
  if (shots) await shot(page, 'pinpad-done');
  return newLabels;
}

test('a counter resets a login password after the in-person check; the member sets it on the PIN-pad', { timeout: TEST_TIMEOUT }, async () => {
  state.memberSide = await openPage(browser);
  state.desk = await openPage(browser);
  state.pinpad = await openPage(browser);
  const { page: memberPage } = state.memberSide;
  const { page: desk } = state.desk;
  const { page: pinpad } = state.pinpad;

  await register(memberPage, member, { loginPassword: LOGIN_PASSWORD, transactionPassword: TRANSACTION_PASSWORD });

  // The counter's first login: password, then the enrolment page, then the console.
  state.deskTotp = await staffFirstLogin(desk, counter, { shot });
  assert.ok(await staffCookie(state.desk.context), 'the console session is in the staff cookie');
  assert.equal(await sessionCookie(state.desk.context), undefined, 'no member session at the desk');
  await assertLabelled(desk);
  await assertStaffTranslated(desk);
  assert.equal(await desk.getByRole('link', { name: ZH_STAFF.approvalsTitle, exact: true }).count(), 0,
    'a counter has no approvals');

  // The member's page: masked document and phone only, and the counter's form.
  await staffLookUp(desk, member);
  assert.match(pathOf(desk), MEMBER_PAGE_PATH);
  state.memberPath = pathOf(desk);
  await assertHeading(desk, ZH_STAFF.memberTitle);
  assert.equal((await desk.locator('#member-title').innerText()).trim(), member.name);
  assert.equal(await definition(desk, '个人账号'), member.account);
  assert.equal(await definition(desk, '证件号码'), member.maskedId);
  assert.equal(await definition(desk, '中心留存手机号'), member.maskedPhone);
  assert.equal(await definition(desk, '用户状态'), '注册用户');
  await assertMaskedOnly(desk);
  const labels = await assertLabelled(desk);
  assert.deepEqual(Object.keys(labels).sort(), [
    'card_expiry', 'card_id_number', 'card_id_type', 'card_long_term', 'form_number',
    'new_phone', 'new_phone_again', 'scope', 'send_sms',
  ], 'the counter sees the in-person check only (no checklist, no reveal)');
  const scopes = await desk.locator('#scope option').evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(scopes, ['', 'login', 'transaction', 'both']);
  assert.equal(await desk.locator('input[type=password]').count(), 0, 'staff never type a member password');
  await assertStaffTranslated(desk);
  await shot(desk, 'member-page');

  // A card that is not the member's: refused next to the card number, nothing issued.
  const before = (await messagesTo(member.phone)).length;
  await fillCounterCheck(desk, { cardNumber: residentId('32010219880506022'), scope: 'login', formNumber: 'GJJ-2026-000100' });
  await navigating(desk, () => desk.getByRole('button', { name: '登记核验', exact: true }).click());
  await assertHeading(desk, ZH_STAFF.memberTitle);
  assert.deepEqual(await summaryErrors(desk), [ZH_STAFF.cardMismatch]);
  assert.deepEqual(await fieldErrors(desk, 'card_id_number'), [ZH_STAFF.cardMismatch]);
  assert.equal(await desk.locator('#ticket').count(), 0, 'no ticket for a card that does not match');
  assert.equal((await messagesTo(member.phone)).length, before, 'nothing was sent');
  await assertStaffTranslated(desk);
  await shot(desk, 'card-mismatch');

  // The right card, "login password": the receipt with the ticket.
  await fillCounterCheck(desk, { scope: 'login', formNumber: 'GJJ-2026-000101' });
  await navigating(desk, () => desk.getByRole('button', { name: '登记核验', exact: true }).click());
  const ticket = await receiptTicket(desk);
  assert.equal(await definition(desk, '重置'), '登录密码');
  assert.equal(await definition(desk, '已签署的重置申请表编号'), 'GJJ-2026-000101');
  await shot(desk, 'receipt');
  // The phone on file is told a ticket was issued, without the ticket.
  const notices = (await messagesTo(member.phone)).filter((m) => m.purpose === 'ticket_issued');
  assert.equal(notices.length, 1, 'one notice of the issued ticket');
  assert.ok(!notices[0].text.includes(ticket), 'the notice does not carry the ticket');

  // The member, on the PIN-pad screen: no staff cookie there.
  assert.equal(await staffCookie(state.pinpad.context), undefined);
  const newLabels = await redeemOnPinpad(pinpad, ticket, { login: PINPAD_LOGIN_PASSWORD }, { shots: true });
  assert.deepEqual(Object.keys(newLabels).sort(), ['login_password', 'login_password_again'],
    'a login-password ticket asks for the login password only');
  assert.equal(await staffCookie(state.pinpad.context), undefined, 'the PIN-pad never gets a staff cookie');

  // The old password no longer logs in; the new one does.
  await loginWithDocument(memberPage, member, LOGIN_PASSWORD);
  assert.equal(pathOf(memberPage), '/login', 'the old password must not log in');
  assert.deepEqual(await summaryErrors(memberPage), [ZH.invalid]);
  await loginWithDocument(memberPage, member, PINPAD_LOGIN_PASSWORD);
  assert.equal(pathOf(memberPage), '/home', `the new password did not log in: ${await memberPage.locator('main').innerText()}`);
  await assertHeading(memberPage, ZH.homeTitle);

  // The same ticket again: refused.
  await navigating(pinpad, () => pinpad.getByRole('link', { name: '下一位缴存人', exact: true }).click());
  assert.equal(pathOf(pinpad), '/counter/pinpad');
  await pinpad.getByLabel('重置凭证', { exact: true }).fill(ticket);
  await pinpad.getByLabel('证件类型', { exact: true }).selectOption(member.idType);
  await pinpad.getByLabel('证件号码', { exact: true }).fill(member.id);
  await navigating(pinpad, () => pinpad.getByRole('button', { name: '下一步', exact: true }).click());
  await assertHeading(pinpad, ZH_STAFF.pinpadTitle);
  assert.deepEqual(await fieldErrors(pinpad, 'ticket'), [ZH_STAFF.ticketNotValid]);
  assert.equal(await pinpad.locator('input[type=password]').count(), 0, 'no new password for a used ticket');
  await assertStaffTranslated(pinpad);
  await shot(pinpad, 'pinpad-ticket-used');

  for (const side of [state.memberSide, state.desk, state.pinpad]) {
    assert.deepEqual(side.serverErrors, [], 'no page answered with a server error');
  }
  state.firstDone = true;
});

test('a second reset within 30 days waits for a supervisor; the counter issues it after the approval', { timeout: TEST_TIMEOUT }, async () => {
  assert.ok(state.firstDone, 'the first test of this file did not finish');
  const { page: desk } = state.desk;
  const { page: pinpad } = state.pinpad;
  const { page: memberPage } = state.memberSide;

  // Both passwords this time: a reset 30 days after the last one is high-risk.
  await desk.goto(state.memberPath);
  await assertHeading(desk, ZH_STAFF.memberTitle);
  assert.ok((await desk.locator('main').innerText()).includes('生效中的保护期'), 'the member page lists the hold of the first reset');
  await fillCounterCheck(desk, { scope: 'both', formNumber: 'GJJ-2026-000102' });
  await desk.getByLabel('证件长期有效', { exact: true }).check();
  await navigating(desk, () => desk.getByRole('button', { name: '登记核验', exact: true }).click());
  assert.match(pathOf(desk), /^\/staff\/cases\/[0-9a-f]{32}$/, `not on a case page: ${await desk.locator('main').innerText()}`);
  const casePath = pathOf(desk);
  await assertHeading(desk, ZH_STAFF.caseTitle);
  assert.equal((await desk.locator('.notice[role=status]').innerText()).trim(), ZH_STAFF.awaitingHint);
  assert.equal(await definition(desk, '状态'), ZH_STAFF.statusAwaiting);
  assert.equal(await definition(desk, '证件有效期至'), '长期');
  const risks = (await desk.locator('ul.risks li').allInnerTexts()).map((t) => t.trim());
  assert.ok(risks.includes(ZH_STAFF.riskRecentReset), `the reasons name the recent reset: ${JSON.stringify(risks)}`);
  for (const name of [ZH_STAFF.issue, ZH_STAFF.approve, ZH_STAFF.reject]) {
    assert.equal(await desk.getByRole('button', { name, exact: true }).count(), 0, `the counter has no "${name}" button while it waits`);
  }
  assert.equal(await desk.locator('#ticket').count(), 0, 'no ticket before the approval');
  await assertMaskedOnly(desk);
  await assertStaffTranslated(desk);
  await shot(desk, 'case-waiting');

  // The supervisor logs in (own enrolment) and approves it from the list.
  state.boss = await openPage(browser);
  const { page: boss } = state.boss;
  await staffFirstLogin(boss, supervisor, { shot });
  await navigating(boss, () => boss.getByRole('link', { name: ZH_STAFF.approvalsTitle, exact: true }).click());
  assert.equal(pathOf(boss), '/staff/approvals');
  await assertHeading(boss, ZH_STAFF.approvalsTitle);
  const entry = boss.locator(`a[href="${casePath}"]`);
  assert.equal(await entry.count(), 1, 'the case is on the list');
  const line = (await entry.innerText()).trim();
  for (const part of [member.name, member.maskedId, '登录密码和交易密码']) {
    assert.ok(line.includes(part), `the list entry "${line}" shows "${part}"`);
  }
  await assertMaskedOnly(boss);
  await assertStaffTranslated(boss);
  await shot(boss, 'approvals');

  // The desk's address of the member page is the desk's own: not another session's,
  // and a bare member id is no address at all.
  for (const path of [state.memberPath, state.memberPath.replace(/-[0-9a-f]+$/, '')]) {
    const response = await boss.goto(path);
    assert.equal(response.status(), 404, `${path} must not open in the supervisor's session`);
    assert.ok(!(await boss.content()).includes(member.maskedId), 'nothing of the member is shown');
    await assertStaffTranslated(boss);
  }
  await boss.goto('/staff/approvals');

  await navigating(boss, () => entry.click());
  assert.equal(pathOf(boss), casePath);
  await assertHeading(boss, ZH_STAFF.caseTitle);
  assert.equal(await boss.getByRole('button', { name: ZH_STAFF.issue, exact: true }).count(), 0, 'a supervisor does not issue');
  assert.equal(await boss.getByRole('button', { name: ZH_STAFF.reject, exact: true }).count(), 1);
  await assertMaskedOnly(boss);
  await assertStaffTranslated(boss);
  await shot(boss, 'case-to-approve');
  await navigating(boss, () => boss.getByRole('button', { name: ZH_STAFF.approve, exact: true }).click());
  assert.equal(pathOf(boss), '/staff/approvals');
  assert.equal(await boss.locator(`a[href="${casePath}"]`).count(), 0, 'an approved case leaves the list');
  await assertStaffTranslated(boss);

  // Back at the desk: the case can be issued now, by the counter who opened it.
  await desk.goto(casePath);
  await assertHeading(desk, ZH_STAFF.caseTitle);
  assert.equal(await definition(desk, '状态'), ZH_STAFF.statusApproved);
  await assertStaffTranslated(desk);
  await navigating(desk, () => desk.getByRole('button', { name: ZH_STAFF.issue, exact: true }).click());
  const ticket = await receiptTicket(desk);
  assert.equal(await definition(desk, '重置'), '登录密码和交易密码');
  await shot(desk, 'receipt-after-approval');

  // Shown once: the case page no longer carries it, nor an issue button.
  await desk.goto(casePath);
  assert.equal(await definition(desk, '状态'), ZH_STAFF.statusIssued);
  assert.ok(!(await desk.content()).includes(ticket), 'the ticket is not shown again');
  assert.equal(await desk.getByRole('button', { name: ZH_STAFF.issue, exact: true }).count(), 0, 'issued once');

  // The ticket works: both passwords on the PIN-pad, then the new login password logs in.
  const newLabels = await redeemOnPinpad(pinpad, ticket, { login: APPROVED_LOGIN_PASSWORD, transaction: APPROVED_TRANSACTION_PASSWORD });
  assert.deepEqual(Object.keys(newLabels).sort(),
    ['login_password', 'login_password_again', 'transaction_password', 'transaction_password_again']);
  await loginWithDocument(memberPage, member, APPROVED_LOGIN_PASSWORD);
  assert.equal(pathOf(memberPage), '/home', `the approved ticket's password did not log in: ${await memberPage.locator('main').innerText()}`);

  for (const side of [state.memberSide, state.desk, state.pinpad, state.boss]) {
    assert.deepEqual(side.serverErrors, [], 'no page answered with a server error');
  }
});
