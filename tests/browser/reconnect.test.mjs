// Scene d: pages outlive their server. A drained stop (SIGTERM: the
// shutdown frame, then the close) and a crash (SIGKILL: the connection just
// drops); each time the server starts again on the same ports and data
// directory, and the pages come back by themselves: they send and receive
// again, what was typed meanwhile goes out, what was said meanwhile is
// replayed once, and the history on disk is still there for newcomers.

import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import {
  TIMEOUT, expectStatus, launchBrowser, login, messageTexts, openPage, say, startServer,
  startTcpClient, temporaryDirectory, waitForMessage,
} from './scene.mjs';

// Reconnecting backs off (0.5 s doubling, cut at random by up to half) while
// the server is away: allow a few rounds of it, under sanitizers too.
const RECONNECT_TIMEOUT = 2 * TIMEOUT;

let dataDir;
let server;
let browser;

before(async () => {
  dataDir = await temporaryDirectory('chat-browser-restart-');
  server = await startServer({ dataDir });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.cleanup();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function restart(signal) {
  const { port, httpPort } = server;
  const outcome = await server.stop(signal);
  // A drain ends with status 0 (PROTOCOL 8); cleanup() looks for sanitizer reports.
  if (signal === 'SIGTERM') assert.deepEqual(outcome, { code: 0, signal: null }, server.log());
  await server.cleanup();
  return { port, httpPort };
}

function assertNoRepeats(texts) {
  assert.deepEqual(texts, [...new Set(texts)], `a message shown twice: ${JSON.stringify(texts)}`);
}

test('pages reconnect after a drain and after a crash', async () => {
  const alice = await openPage(browser, server);
  const bob = await openPage(browser, server);
  await login(alice.page, 'alice');
  await login(bob.page, 'bob');
  await say(alice.page, 'before the restart');
  await waitForMessage(bob.page, 'alice', 'before the restart');

  // A drain: the server says it is going, then closes.
  const ports = await restart('SIGTERM');
  for (const { page } of [alice, bob]) {
    await page.locator('#scroller li.notice', { hasText: 'The server is restarting' }).waitFor();
    await expectStatus(page, 'Reconnecting');
  }
  // Typed while the server is away: kept, and marked so.
  await alice.page.locator('#composer-text').fill('typed while offline');
  await alice.page.locator('#composer-text').press('Enter');
  await alice.page.locator('#scroller li.message.pending', { hasText: 'typed while offline' })
    .locator('.delivery', { hasText: 'waiting for the connection' }).waitFor();

  server = await startServer({ dataDir, ...ports });
  await expectStatus(alice.page, 'Connected as alice', RECONNECT_TIMEOUT);
  await expectStatus(bob.page, 'Connected as bob', RECONNECT_TIMEOUT);
  await waitForMessage(alice.page, null, 'typed while offline', { mine: true, confirmed: true });
  await waitForMessage(bob.page, 'alice', 'typed while offline');
  await say(bob.page, 'after the restart');
  await waitForMessage(alice.page, 'bob', 'after the restart');

  // History was kept on disk: a newcomer sees what came before the restart.
  const carol = await openPage(browser, server);
  await login(carol.page, 'carol');
  await waitForMessage(carol.page, 'bob', 'after the restart');
  assert.deepEqual(await messageTexts(carol.page), ['before the restart', 'typed while offline', 'after the restart']);
  await carol.context.close();

  // A crash: no word from the server, the connection just ends. Something
  // is said before the pages are back, by the terminal client.
  const crashed = await restart('SIGKILL');
  await expectStatus(alice.page, 'Reconnecting');
  server = await startServer({ dataDir, ...crashed });
  const dave = startTcpClient(server, 'dave');
  try {
    await dave.waitForLine('* welcome dave');
    dave.send('said while the pages were away');
    for (const [page, name] of [[alice.page, 'alice'], [bob.page, 'bob']]) {
      await expectStatus(page, `Connected as ${name}`, RECONNECT_TIMEOUT);
      // Live or replayed by the resume, depending on who came first: once either way.
      await waitForMessage(page, 'dave', 'said while the pages were away');
    }
    await say(alice.page, 'back after the crash');
    await waitForMessage(bob.page, 'alice', 'back after the crash');
    await dave.waitForLine('alice: back after the crash');

    for (const { page } of [alice, bob]) {
      const texts = await messageTexts(page);
      assertNoRepeats(texts);
      assert.deepEqual(texts.filter((t) => t !== 'said while the pages were away'),
        ['before the restart', 'typed while offline', 'after the restart', 'back after the crash']);
    }
    assert.deepEqual(alice.problems, []);
    assert.deepEqual(bob.problems, []);
  } finally {
    await dave.close();
  }
});

// Without --data-dir a new server counts ids from the start again: the page
// must not take its new messages for ones it has shown already.
test('a page reconnects to a server that kept nothing', async () => {
  const memoryServer = await startServer({ memoryOnly: true });
  try {
    const alice = await openPage(browser, memoryServer);
    const bob = await openPage(browser, memoryServer);
    await login(alice.page, 'alice');
    await login(bob.page, 'bob');
    for (const text of ['one', 'two', 'three']) await say(alice.page, text);
    await waitForMessage(bob.page, 'alice', 'three');

    const { port, httpPort } = memoryServer;
    await memoryServer.stop('SIGKILL');
    const again = await startServer({ memoryOnly: true, port, httpPort });
    try {
      await expectStatus(alice.page, 'Connected as alice', RECONNECT_TIMEOUT);
      await expectStatus(bob.page, 'Connected as bob', RECONNECT_TIMEOUT);
      // The new server's first ids are those of one, two and three.
      for (const text of ['uno', 'dos', 'tres']) await say(bob.page, text);
      await waitForMessage(alice.page, 'bob', 'tres');
      assert.deepEqual(await messageTexts(alice.page), ['one', 'two', 'three', 'uno', 'dos', 'tres']);
      await alice.page.locator('#scroller li.notice', { hasText: 'The server started afresh' }).waitFor();
      assert.deepEqual(alice.problems, []);
      assert.deepEqual(bob.problems, []);
    } finally {
      await again.cleanup();
    }
  } finally {
    await memoryServer.cleanup();
  }
});
