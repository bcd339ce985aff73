// Accounts and errors (PROTOCOL 2.6, 6): registering at login and in a
// session, the password prompt for a registered name, a wrong password, a
// second login taking the account over (the first page then stays away), a
// reconnect that logs in with the password again, and errors shown with
// their code and text in the page's live region. Then an operator (the
// terminal client in its JSON form, logged in to an account named by
// --operator; it has no moderation commands of its own) puts a page
// out of a room, and ends its session: the page does not come back.

import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import {
  TIMEOUT, delay, expectStatus, joinRoom, launchBrowser, login, openPage, openView, say, startServer,
  startTcpClient, temporaryDirectory, waitForMessage,
} from './scene.mjs';

const PASSWORD = 'correct horse battery';

let dataDir;
let server;
let browser;

before(async () => {
  dataDir = await temporaryDirectory('chat-browser-accounts-');
  server = await startServer({ dataDir, args: ['--operator', 'root'] });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.cleanup();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function errorItem(page, code) {
  return page.locator('#error-list li', { has: page.locator('.code', { hasText: code }) });
}

test('register, the password prompt, a takeover and errors', async () => {
  const first = await openPage(browser, server);
  await login(first.page, 'alice', { password: PASSWORD, register: true });
  await first.page.locator('#me-account', { hasText: 'registered' }).waitFor();
  assert.equal(await first.page.getByRole('button', { name: 'Rename' }).isVisible(), false,
    'an account cannot change its name');

  // Another page wants the name: the server asks for the password.
  const second = await openPage(browser, server);
  await second.page.getByLabel('Your name', { exact: true }).fill('alice');
  await second.page.getByRole('button', { name: 'Enter' }).click();
  await errorItem(second.page, 'password-required').waitFor();
  await second.page.getByText('alice is registered: enter its password.').waitFor();
  const password = second.page.getByLabel('Password', { exact: true });
  await password.waitFor({ state: 'visible' });
  assert.equal(await password.evaluate((el) => el === document.activeElement), true, 'the prompt has the focus');

  await password.fill('not the password');
  await second.page.getByRole('button', { name: 'Enter' }).click();
  await errorItem(second.page, 'auth-failed').waitFor();
  // A failed login makes the name and the address wait a second (PROTOCOL 2.6).
  await delay(2000);
  await password.fill(PASSWORD);
  await second.page.getByRole('button', { name: 'Enter' }).click();
  await expectStatus(second.page, 'Connected as alice');

  // The first page was replaced: it says so, and does not fight back.
  await errorItem(first.page, 'session-replaced').waitFor();
  await expectStatus(first.page, 'Logged in elsewhere');
  await delay(1500);
  assert.match(await first.page.locator('#status').textContent(), /Logged in elsewhere/);

  // A guest registers from inside the session.
  const bob = await openPage(browser, server);
  await login(bob.page, 'bob');
  await bob.page.getByLabel('Password to register your name with').fill('short');
  await bob.page.getByRole('button', { name: 'Register' }).click();
  await errorItem(bob.page, 'bad-password').waitFor();
  await bob.page.getByLabel('Password to register your name with').fill('bobs own secret');
  await bob.page.getByRole('button', { name: 'Register' }).click();
  await bob.page.locator('#me-account', { hasText: 'registered' }).waitFor();
  await bob.page.locator('#scroller li.notice', { hasText: 'bob is registered' }).waitFor();

  // Errors from the server, with code and text and what they were about.
  await joinRoom(bob.page, 'dev');
  await bob.page.getByLabel('Room to join or create').fill('no spaces allowed');
  await bob.page.getByRole('button', { name: 'Join', exact: true }).click();
  const badRoom = errorItem(bob.page, 'bad-request');
  await badRoom.waitFor();
  assert.match(await badRoom.textContent(), /Could not join #no spaces allowed: .+/);
  assert.equal(await bob.page.locator('#error-list').getAttribute('aria-live'), 'assertive');
  await badRoom.getByRole('button', { name: 'Dismiss the bad-request error' }).click();
  assert.equal(await badRoom.count(), 0);

  // A guest renames; the new name is known everywhere, a taken one refused.
  const carol = await openPage(browser, server);
  await login(carol.page, 'carol');
  await carol.page.getByLabel('New name').fill('alice');
  await carol.page.getByRole('button', { name: 'Rename' }).click();
  await errorItem(carol.page, 'name-taken').waitFor();
  await carol.page.getByLabel('New name').fill('caroline');
  await carol.page.getByRole('button', { name: 'Rename' }).click();
  await carol.page.locator('#me-name', { hasText: 'caroline' }).waitFor();
  await second.page.locator('#scroller li.notice', { hasText: 'carol is now known as caroline' }).waitFor();

  // After a crash the account's page logs in again with its password.
  const { port, httpPort } = server;
  await server.stop('SIGKILL');
  await server.cleanup();
  server = await startServer({ dataDir, port, httpPort, args: ['--operator', 'root'] });
  await expectStatus(second.page, 'Connected as alice', 2 * TIMEOUT);
  await expectStatus(bob.page, 'Connected as bob', 2 * TIMEOUT);
  await say(second.page, 'still me');
  await openView(bob.page, '#lobby');
  await waitForMessage(bob.page, 'alice', 'still me');
  assert.match(await first.page.locator('#status').textContent(), /Logged in elsewhere/);

  for (const page of [first, second, bob, carol]) assert.deepEqual(page.problems, []);
});

test('an operator kicks a page out of a room, then disconnects it', async () => {
  const root = startTcpClient(server, 'root', { password: 'root password', register: true, json: true });
  const dave = await openPage(browser, server);
  try {
    await root.waitForLine('"type":"welcome"');
    await login(dave.page, 'dave');
    await joinRoom(dave.page, 'ops');
    root.send('{"type":"join","room":"ops"}');
    await dave.page.locator('#scroller li.notice', { hasText: 'root joined #ops' }).waitFor();

    root.send('{"type":"kick","room":"ops","user":"dave","reason":"off topic"}');
    const kicked = errorItem(dave.page, 'kicked');
    await kicked.waitFor();
    assert.match(await kicked.textContent(), /dave was put out in #ops by root \(off topic\)/);
    await dave.page.locator('#room-list .view-button', { hasText: '#ops' }).waitFor({ state: 'detached' });
    await expectStatus(dave.page, 'Connected as dave');

    root.send('{"type":"kill","user":"dave","reason":"enough"}');
    await expectStatus(dave.page, 'Disconnected by root: not reconnecting.');
    await root.waitForLine('{"type":"leave","room":"lobby","user":"dave"}');
    await delay(1500);
    assert.match(await dave.page.locator('#status').textContent(), /not reconnecting/);
    assert.deepEqual(dave.problems, []);
  } catch (error) {
    error.message += `\nthe operator's client printed:\n${root.lines.join('\n')}`;
    throw error;
  } finally {
    await root.close();
  }
});
